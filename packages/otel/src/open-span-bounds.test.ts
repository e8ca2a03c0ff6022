import { InMemoryEventBus } from '@baton/agent-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenTelemetryAdapter } from './opentelemetry-adapter.js';
import type { OTelConfig } from './otel-config.js';
import { delivered, jobEvents, sdk } from './test-helpers/telemetry.js';

const adapters: OpenTelemetryAdapter[] = [];
function setup(config: OTelConfig = {}) {
  const bus = new InMemoryEventBus();
  const t = sdk();
  const adapter = new OpenTelemetryAdapter(bus, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider, ...config, _internal: { sweepIntervalMs: 0, ...config._internal } });
  adapters.push(adapter);
  return { bus, t, adapter };
}
afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
});

const start = (bus: InMemoryEventBus, jobId: string) => jobEvents(bus, { jobId })('job.started', { from: 'queued', attempt: 1 });

describe('open spans are bounded: a job that never ends does not leak', () => {
  it('past maxOpenJobs the least recently active job has its spans ended (ended_by: capacity)', async () => {
    const { bus, t, adapter } = setup({ maxOpenJobs: 3 });
    for (const jobId of ['a', 'b', 'c']) await start(bus, jobId);
    await jobEvents(bus, { jobId: 'a' })('model.started', { model: 'm', stepKey: 'a:0' }); // a is active again
    await start(bus, 'd');
    await delivered();
    expect(adapter.stats).toMatchObject({ openJobs: 3, evictedJobs: 1 });
    const ended = t.spans();
    expect(ended.map((s) => [s.name, s.attributes['baton.job.id'] ?? null, s.attributes['baton.span.ended_by']])).toEqual([
      ['agent.run', 'b', 'capacity'],
      ['agent.job', 'b', 'capacity'],
    ]);
  });

  it('a job idle past openSpanTtlMs has its spans ended at its last event (ended_by: ttl)', async () => {
    let now = 1_000_000;
    const { bus, t, adapter } = setup({ openSpanTtlMs: 60_000, _internal: { now: () => now } });
    const emitA = jobEvents(bus, { jobId: 'stuck' }, 1_700_000_000_000);
    await emitA('job.started', { from: 'queued', attempt: 1 });
    await emitA('tool.started', { toolName: 'slow', stepKey: 'stuck:0' });
    await delivered();
    now += 59_000;
    await start(bus, 'fresh');
    await delivered();
    expect(t.spans()).toEqual([]);
    now += 2_000;
    await start(bus, 'another'); // the sweep runs on events (and on a timer when idle)
    await delivered();
    expect(t.spans().map((s) => [s.name, s.attributes['baton.span.ended_by']])).toEqual([
      ['agent.tool', 'ttl'],
      ['agent.run', 'ttl'],
      ['agent.job', 'ttl'],
    ]);
    expect(t.spans().every((s) => s.endTime[0] === 1_700_000_000)).toBe(true); // at its last event (+20 ms)
    expect(adapter.stats).toMatchObject({ openJobs: 2, evictedJobs: 1 });
  });

  it('the background sweep ends idle jobs when no event comes', async () => {
    let now = 0;
    const { bus, t } = setup({ openSpanTtlMs: 1_000, _internal: { now: () => now, sweepIntervalMs: 5 } });
    await start(bus, 'quiet');
    await delivered();
    now = 5_000;
    await expect.poll(() => t.spans().length, { timeout: 2_000, interval: 5 }).toBe(2);
  });

  it('past maxOpenSpansPerJob the oldest call of the job is ended', async () => {
    const { bus, t } = setup({ maxOpenSpansPerJob: 2 });
    const emit = jobEvents(bus, { jobId: 'j' });
    await emit('job.started', { from: 'queued', attempt: 1 });
    for (const k of ['0', '1', '2']) await emit('tool.started', { toolName: 't', stepKey: `j:${k}` });
    await delivered();
    expect(t.spans().map((s) => [s.attributes['baton.step.key'], s.attributes['baton.span.ended_by']])).toEqual([['j:0', 'capacity']]);
  });

  it('close() ends every open span, unsubscribes, and is idempotent', async () => {
    const { bus, t, adapter } = setup();
    const emit = jobEvents(bus, { jobId: 'open' });
    await emit('job.started', { from: 'queued', attempt: 1 });
    await emit('action.required', { actionId: 'act', actionType: 'approval' });
    await delivered();
    expect(adapter.stats.openSpans).toBe(3);
    await adapter.close();
    await adapter.close();
    expect(t.spans().map((s) => [s.name, s.attributes['baton.span.ended_by']])).toEqual([
      ['agent.action', 'close'],
      ['agent.run', 'close'],
      ['agent.job', 'close'],
    ]);
    await emit('job.completed', { from: 'running' });
    await start(bus, 'later');
    await delivered();
    expect(t.spans()).toHaveLength(3);
    expect(adapter.stats).toMatchObject({ openJobs: 0, openSpans: 0, events: 2 });
  });
});
