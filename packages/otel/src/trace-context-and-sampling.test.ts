import { InMemoryEventBus } from '@baton/agent-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenTelemetryAdapter } from './opentelemetry-adapter.js';
import { delivered, jobEvents, parentId, sdk, traceId } from './test-helpers/telemetry.js';

const adapters: OpenTelemetryAdapter[] = [];
function setup(samplingRate?: number) {
  const bus = new InMemoryEventBus();
  const t = sdk();
  adapters.push(new OpenTelemetryAdapter(bus, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider, samplingRate, _internal: { sweepIntervalMs: 0 } }));
  return { bus, t };
}
afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
});

async function runJob(bus: InMemoryEventBus, jobId: string, trace?: string) {
  const emit = jobEvents(bus, { jobId, traceId: trace });
  await emit('job.started', { from: 'queued', attempt: 1 });
  await emit('model.started', { model: 'm', stepKey: `${jobId}:0` });
  await emit('model.completed', { model: 'm', provider: 'scripted', stepKey: `${jobId}:0` });
  await emit('job.completed', { from: 'running' });
}

describe('trace context', () => {
  it("a job with a traceId gets that trace id, under a parent derived from the job id (the same on every host)", async () => {
    const traceHex = '4bf92f3577b34da6a3ce929d0e0e4736';
    const hostA = setup();
    const hostB = setup();
    await runJob(hostA.bus, 'job-1', traceHex);
    await runJob(hostB.bus, 'job-1', traceHex);
    await delivered();
    for (const host of [hostA, hostB]) {
      expect(host.t.spans()).toHaveLength(3);
      for (const span of host.t.spans()) expect(traceId(span)).toBe(traceHex);
      const [job] = host.t.named('agent.job');
      expect(job!.parentSpanContext?.isRemote).toBe(true);
    }
    expect(parentId(hostA.t.named('agent.job')[0]!)).toBe(parentId(hostB.t.named('agent.job')[0]!));
  });

  it('job status events without the trace id: the job and run spans wait for the first event that has it', async () => {
    const traceHex = '5bf92f3577b34da6a3ce929d0e0e4737';
    const { bus, t } = setup();
    const plain = jobEvents(bus, { jobId: 'job-9' }, 1_700_000_000_000);
    const traced = jobEvents(bus, { jobId: 'job-9', traceId: traceHex }, 1_700_000_000_100);
    await plain('job.created', { status: 'queued', priority: 'normal', principalId: 'p' });
    await plain('job.started', { from: 'queued', attempt: 1 });
    await traced('model.started', { model: 'm', stepKey: 'job-9:0' });
    await traced('model.completed', { model: 'm', stepKey: 'job-9:0' });
    await plain('job.completed', { from: 'running' }, 1_700_000_000_200);
    await delivered();
    expect(t.spans()).toHaveLength(3);
    for (const span of t.spans()) expect(traceId(span)).toBe(traceHex);
    expect(t.named('agent.job')[0]!.startTime).toEqual([1_700_000_000, 10_000_000]); // still job.created's time
  });

  it('without a traceId (or with one that is not 32 hex digits) the job span starts a trace of its own', async () => {
    const { bus, t } = setup();
    await runJob(bus, 'job-a');
    await runJob(bus, 'job-b', 'not-a-trace-id');
    await delivered();
    const jobs = t.named('agent.job');
    expect(jobs.map((j) => parentId(j))).toEqual([undefined, undefined]);
    expect(new Set(jobs.map(traceId)).size).toBe(2);
  });
});

describe('samplingRate', () => {
  it('0 traces nothing but the metrics still count every job', async () => {
    const { bus, t } = setup(0);
    for (let i = 0; i < 5; i++) await runJob(bus, `job-${i}`);
    await delivered();
    expect(t.spans()).toEqual([]);
    expect(await t.total('baton.job.completed')).toBe(5);
    expect(await t.total('gen_ai.client.operation.duration')).toBe(5);
  });

  it('decides per job from its trace id or job id alone: two hosts agree, and about the rate of jobs is traced', async () => {
    const hostA = setup(0.3);
    const hostB = setup(0.3);
    const jobs = Array.from({ length: 300 }, (_, i) => `job-${i}`);
    for (const jobId of jobs) {
      await runJob(hostA.bus, jobId);
      await runJob(hostB.bus, jobId);
    }
    await delivered();
    const traced = (t: ReturnType<typeof sdk>) => t.named('agent.job').map((s) => s.attributes['baton.job.id']);
    const a = traced(hostA.t);
    expect(traced(hostB.t)).toEqual(a);
    expect(a.length).toBeGreaterThan(60);
    expect(a.length).toBeLessThan(120);
    // A sampled job has all its spans, an unsampled one none.
    expect(hostA.t.spans()).toHaveLength(a.length * 3);
  });
});
