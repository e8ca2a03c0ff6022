import { InMemoryEventBus } from '@baton/agent-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaEventAdapter, type KafkaConfig } from './kafka-event-adapter.js';
import { KafkaDouble } from './test-helpers/kafka-double.js';
import { eventsOf, publishInterleaved, tick } from './test-helpers/events.js';

const adapters: KafkaEventAdapter[] = [];
afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
});
function setup(config: Partial<KafkaConfig> = {}, double = new KafkaDouble()) {
  const bus = new InMemoryEventBus({ maxQueue: 100_000 });
  const adapter = new KafkaEventAdapter(bus, { kafka: double, topicPrefix: 'acme.events', ...config });
  adapters.push(adapter);
  return { bus, double, adapter };
}

describe('KafkaEventAdapter: topics, keys, order', () => {
  it('writes each event to <prefix>.<category>, keyed by job id, as the JSON event with headers and the event time', async () => {
    const { bus, double, adapter } = setup();
    const started = await bus.publish({ type: 'job.started', jobId: 'job-1', scopeId: 'acme', data: { from: 'queued', attempt: 1 }, at: 1_700_000_000_123 });
    await bus.publish({ type: 'model.started', jobId: 'job-1', scopeId: 'acme', data: { model: 'gpt-4o' } });
    await bus.publish({ type: 'tool.started', jobId: 'job-1', scopeId: 'acme', data: { toolName: 'search' } });
    await bus.publish({ type: 'action.required', jobId: 'job-1', scopeId: 'acme', data: { actionId: 'a', actionType: 'approval' } });
    await adapter.flush();

    expect(double.topics()).toEqual(['acme.events.action', 'acme.events.job', 'acme.events.model', 'acme.events.tool']);
    expect(adapter.topicFor('budget.warning')).toBe('acme.events.budget');
    const [message] = double.messages('acme.events.job');
    expect(message).toMatchObject({ key: 'job-1', timestamp: '1700000000123', headers: { 'baton-event-type': 'job.started', 'baton-scope-id': 'acme', 'baton-seq': '1' } });
    expect(JSON.parse(message!.value!)).toEqual(started);
    expect(double.connects).toBe(1);
  });

  it('events published together go out in one sendBatch, split by batchSize', async () => {
    const { bus, double, adapter } = setup({ batchSize: 4 });
    await publishInterleaved(bus, ['a', 'b'], 5); // 10 events in one tick
    await adapter.flush();
    expect(double.sendBatchCalls.map((c) => c.topicMessages!.reduce((n, t) => n + t.messages.length, 0))).toEqual([4, 4, 2]);
    expect(adapter.stats).toMatchObject({ written: 10, failed: 0, dropped: 0, buffered: 0, inFlightBatches: 0 });
  });

  it('keeps each job\'s order within a topic partition, with several batches in flight at once', async () => {
    const { bus, double, adapter } = setup({ batchSize: 7, maxInFlightBatches: 3 });
    const release = double.hold();
    const jobs = Array.from({ length: 40 }, (_, i) => `job-${i}`);
    await publishInterleaved(bus, jobs, 10);
    await tick();
    await tick();
    // The bound: batches wait in the buffer, not in Kafka's client.
    expect(double.inFlight).toBeLessThanOrEqual(3);
    expect(adapter.stats.inFlightMessages).toBeLessThanOrEqual(21);
    expect(adapter.stats.buffered).toBeGreaterThan(0);
    release();
    await adapter.flush();
    expect(double.maxInFlight).toBe(3);

    const calls = double.sendBatchCalls;
    expect(calls.length).toBeGreaterThanOrEqual(Math.ceil(400 / 7));
    for (const topic of double.topics()) {
      const byJob = new Map<string, number[]>();
      for (const e of eventsOf(double.messages(topic))) byJob.set(e.jobId, [...(byJob.get(e.jobId) ?? []), e.seq]);
      for (const [jobId, seqs] of byJob) expect(seqs, `${topic} ${jobId}`).toEqual([...seqs].sort((x, y) => x - y));
      // All of a job's messages of a topic are in one partition.
      for (const jobId of byJob.keys()) expect(new Set(double.messages(topic).filter((m) => m.key === jobId).map((m) => m.partition)).size).toBe(1);
    }
    expect(double.messages()).toHaveLength(400);
  });

  it('lingerMs lets a batch wait for more events', async () => {
    const { bus, double, adapter } = setup({ lingerMs: 30 });
    await bus.publish({ type: 'job.started', jobId: 'a', scopeId: 'acme', data: { from: 'queued', attempt: 1 } });
    await tick();
    await bus.publish({ type: 'job.started', jobId: 'b', scopeId: 'acme', data: { from: 'queued', attempt: 1 } });
    await tick();
    expect(double.sendBatchCalls).toHaveLength(0);
    await adapter.flush(); // flush does not wait for the linger
    expect(double.sendBatchCalls).toHaveLength(1);
    expect(double.messages()).toHaveLength(2);
  });

  it('filter: only the matching events are written', async () => {
    const { bus, double, adapter } = setup({ filter: { scopeId: 'acme', eventTypes: ['job.completed'] } });
    await bus.publish({ type: 'job.started', jobId: 'a', scopeId: 'acme', data: { from: 'queued', attempt: 1 } });
    await bus.publish({ type: 'job.completed', jobId: 'a', scopeId: 'acme', data: { from: 'running' } });
    await bus.publish({ type: 'job.completed', jobId: 'b', scopeId: 'other', data: { from: 'running' } });
    await adapter.flush();
    expect(eventsOf(double.messages()).map((e) => `${e.scopeId}/${e.type}`)).toEqual(['acme/job.completed']);
  });
});
