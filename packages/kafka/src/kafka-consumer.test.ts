import { InMemoryActionStore, InMemoryEventBus, InMemoryJobStore, InMemoryJournalStore, InMemorySignalChannel, RuntimeKernel, type RuntimeEvent } from '@baton/agent-runtime';
import { Agent, ExecutionEngine, ScriptedProvider, defineTool, type ModelRequest, type ScriptStep } from '@baton/llm-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { CorruptKafkaMessageError } from './errors/corrupt-kafka-message-error.js';
import { KafkaEventAdapter } from './kafka-event-adapter.js';
import { KafkaEventConsumer, type KafkaEventConsumerOptions } from './kafka-event-consumer.js';
import { KafkaDouble } from './test-helpers/kafka-double.js';
import { publishInterleaved } from './test-helpers/events.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A consumer on `double` feeding a fresh bus; `received` collects what the bus publishes. */
async function consume(double: KafkaDouble, options: Partial<KafkaEventConsumerOptions> = {}) {
  const bus = new InMemoryEventBus({ maxQueue: 100_000 });
  const received: RuntimeEvent[] = [];
  bus.subscribe((e) => void received.push(e), { maxQueue: 100_000 });
  const errors: unknown[] = [];
  const consumer = new KafkaEventConsumer(bus, { kafka: double, groupId: 'dashboard', fromBeginning: true, onError: (e) => errors.push(e), ...options });
  closers.push(() => consumer.close());
  await consumer.start();
  return { bus, received, errors, consumer };
}

function produce(double: KafkaDouble) {
  const bus = new InMemoryEventBus({ maxQueue: 100_000 });
  const adapter = new KafkaEventAdapter(bus, { kafka: double });
  closers.push(() => adapter.close());
  return { bus, adapter };
}

const key = (e: RuntimeEvent) => `${e.jobId}:${e.type}:${e.id}`;

describe('KafkaEventConsumer', () => {
  it('feeds the events into a local bus: same ids, times and data, each job\'s events of a topic in order', async () => {
    const double = new KafkaDouble();
    const source = produce(double);
    const published: RuntimeEvent[] = [];
    source.bus.subscribe((e) => void published.push(e), { maxQueue: 100_000 });
    await publishInterleaved(source.bus, ['a', 'b', 'c'], 12);
    await source.adapter.flush();

    const { received, consumer } = await consume(double);
    await vi.waitFor(() => expect(received).toHaveLength(36));
    expect(received.map(key).sort()).toEqual(published.map(key).sort());
    const original = new Map(published.map((e) => [e.id, e]));
    for (const e of received) expect({ ...e, seq: 0 }).toEqual({ ...original.get(e.id)!, seq: 0 });
    for (const jobId of ['a', 'b', 'c']) {
      for (const type of ['checkpoint.saved', 'model.delta', 'step.started']) {
        const ids = (list: RuntimeEvent[]) => list.filter((e) => e.jobId === jobId && e.type === type).map((e) => e.id);
        expect(ids(received)).toEqual(ids(published));
      }
    }
    expect(consumer.stats).toEqual({ received: 36, published: 36, duplicates: 0, failed: 0 });
  });

  it('drops redelivered (jobId, seq): a rebalance that rewinds a partition publishes nothing twice', async () => {
    const double = new KafkaDouble({ partitions: 1 });
    const source = produce(double);
    await publishInterleaved(source.bus, ['a', 'b'], 3);
    await source.adapter.flush();
    const { received, consumer } = await consume(double, { categories: ['model', 'checkpoint', 'step'] });
    await vi.waitFor(() => expect(received).toHaveLength(6));
    // The group's offsets go back to the start, as after a rebalance before a commit.
    for (const topic of consumer.topics) double.committed.set(`dashboard\u0000${topic}\u00000`, 0);
    await vi.waitFor(() => expect(consumer.stats.duplicates).toBe(6));
    expect(received).toHaveLength(6);
  });

  it('skips a message that is not a valid event (reported, offset committed) and goes on', async () => {
    const double = new KafkaDouble({ partitions: 1 });
    double.append('baton.events.job', { key: 'x', value: 'not json' });
    double.append('baton.events.job', { key: 'x', value: JSON.stringify({ schemaVersion: 2, id: 'e', type: 'job.started' }) });
    double.append('baton.events.job', { key: 'x', value: JSON.stringify({ schemaVersion: 1, id: 'e', type: 'job.started', jobId: 'x', scopeId: 's', seq: 1, at: 1, data: { from: 'queued' } }) });
    const source = produce(double);
    await source.bus.publish({ type: 'job.started', jobId: 'good', scopeId: 's', data: { from: 'queued', attempt: 1 } });
    await source.adapter.flush();
    const { received, errors, consumer } = await consume(double);
    await vi.waitFor(() => expect(received.map((e) => e.jobId)).toEqual(['good']));
    expect(errors).toHaveLength(3);
    for (const error of errors) expect(error).toBeInstanceOf(CorruptKafkaMessageError);
    expect(errors[0]).toMatchObject({ code: 'corrupt_kafka_message', topic: 'baton.events.job', partition: 0, offset: '0' });
    expect(String((errors[2] as Error).message)).toContain('attempt');
    expect(consumer.stats).toMatchObject({ received: 4, published: 1, failed: 3 });
    expect(double.committed.get('dashboard\u0000baton.events.job\u00000')).toBe(4);
  });

  it('reads only the categories asked for, and a restarted consumer of the group resumes after its committed offset', async () => {
    const double = new KafkaDouble();
    const source = produce(double);
    const emit = async (jobId: string) => {
      await source.bus.publish({ type: 'job.started', jobId, scopeId: 's', data: { from: 'queued', attempt: 1 } });
      await source.bus.publish({ type: 'model.started', jobId, scopeId: 's', data: { model: 'm' } });
      await source.adapter.flush();
    };
    await emit('first');
    const one = await consume(double, { categories: ['job'] });
    expect(one.consumer.topics).toEqual(['baton.events.job']);
    await vi.waitFor(() => expect(one.received.map((e) => `${e.jobId}/${e.type}`)).toEqual(['first/job.started']));
    await one.consumer.close();
    await emit('second');
    const two = await consume(double, { categories: ['job'] });
    await vi.waitFor(() => expect(two.received.map((e) => `${e.jobId}/${e.type}`)).toEqual(['second/job.started']));
  });

  it('a kernel run crosses Kafka: the remote bus gets every event of the job', async () => {
    const double = new KafkaDouble();
    const events = new InMemoryEventBus();
    const adapter = new KafkaEventAdapter(events, { kafka: double });
    closers.push(() => adapter.close());
    const tool = defineTool({ name: 'lookup', description: 'Looks up', parameters: z.object({ q: z.string() }), execute: ({ q }) => `found ${q}` });
    const script = (request: ModelRequest): ScriptStep => (request.messages.at(-1)?.role === 'tool' ? 'Done.' : { text: '', toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] });
    const engine = new ExecutionEngine({ provider: new ScriptedProvider({ script }) });
    const kernel = RuntimeKernel.create({ engine, agent: new Agent({ engine, tools: [tool] }), stores: { events, jobs: new InMemoryJobStore(), journal: new InMemoryJournalStore(), actions: new InMemoryActionStore(), signals: new InMemorySignalChannel() } });
    closers.push(() => kernel.close());
    const local: RuntimeEvent[] = [];
    events.subscribe((e) => void local.push(e));
    const handle = await kernel.execute({ scopeId: 's', principalId: 'p', input: 'go' });
    await handle.result();
    await adapter.flush();

    const remote = await consume(double);
    await vi.waitFor(() => expect(remote.received).toHaveLength(local.length));
    expect(remote.received.map((e) => e.id).sort()).toEqual(local.map((e) => e.id).sort());
    expect(remote.received.map((e) => e.type)).toEqual(expect.arrayContaining(['job.started', 'model.completed', 'tool.completed', 'job.completed']));
  });
});
