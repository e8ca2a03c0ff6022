import { InMemoryEventBus } from '@baton/agent-runtime';
import { describe, expect, it } from 'vitest';
import { KafkaEventAdapter } from './kafka-event-adapter.js';
import { KafkaDouble, kafkaError } from './test-helpers/kafka-double.js';
import { publishInterleaved, tick } from './test-helpers/events.js';

describe('KafkaEventAdapter: clean shutdown', () => {
  it('close() writes what is buffered and in flight (retries included), then disconnects the producer it created', async () => {
    const bus = new InMemoryEventBus();
    const double = new KafkaDouble();
    const adapter = new KafkaEventAdapter(bus, { kafka: double, batchSize: 10, maxInFlightBatches: 1, lingerMs: 60_000, _internal: { sleep: async () => {} } });
    const release = double.hold();
    double.failNext.push(kafkaError('KafkaJSConnectionError', true));
    await publishInterleaved(bus, ['a', 'b', 'c'], 20); // 60 events
    await tick();
    expect(adapter.stats.inFlightBatches).toBe(1);
    const closing = adapter.close();
    await tick();
    expect(double.disconnects).toBe(0); // not before the writes
    release();
    await closing;
    expect(double.messages()).toHaveLength(60);
    expect(adapter.stats).toMatchObject({ written: 60, buffered: 0, inFlightBatches: 0, retries: 1 });
    expect(double.disconnects).toBe(1);

    // After close: unsubscribed, nothing more is written; close is idempotent.
    await bus.publish({ type: 'job.completed', jobId: 'a', scopeId: 'acme', data: { from: 'running' } });
    await adapter.close();
    await tick();
    expect(double.messages()).toHaveLength(60);
    expect(double.disconnects).toBe(1);
  });

  it('a producer passed in is flushed but never disconnected (it is yours)', async () => {
    const bus = new InMemoryEventBus();
    const double = new KafkaDouble();
    const producer = double.producer();
    const adapter = new KafkaEventAdapter(bus, { producer });
    await bus.publish({ type: 'job.started', jobId: 'a', scopeId: 'acme', data: { from: 'queued', attempt: 1 } });
    await adapter.close();
    expect(double.messages()).toHaveLength(1);
    expect(double.connects).toBe(0);
    expect(double.disconnects).toBe(0);
  });
});
