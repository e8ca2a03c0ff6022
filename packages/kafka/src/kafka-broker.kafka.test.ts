import { randomBytes } from 'node:crypto';
import { InMemoryEventBus, type RuntimeEvent } from '@baton/agent-runtime';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { topicsOf } from './event-topics.js';
import { KafkaEventAdapter } from './kafka-event-adapter.js';
import { KafkaEventConsumer } from './kafka-event-consumer.js';
import { publishInterleaved } from './test-helpers/events.js';

/** Runs against a real broker only when KAFKA_BROKERS is set (`host:port[,host:port]`). */
const brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean) ?? [];
if (brokers.length === 0) console.warn('[kafka broker tests] skipped: KAFKA_BROKERS is not set (e.g. KAFKA_BROKERS=127.0.0.1:9092)');

describe.skipIf(brokers.length === 0)('against a real Kafka broker', () => {
  const prefix = `baton-test-${randomBytes(4).toString('hex')}`;
  const kafka = new kafkajs.Kafka({ brokers, clientId: 'baton-tests', logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: topicsOf(prefix).map((topic) => ({ topic, numPartitions: 3 })) });
  }, 60_000);

  afterAll(async () => {
    await admin.deleteTopics({ topics: topicsOf(prefix) }).catch(() => undefined);
    await admin.disconnect();
  });

  it('events written by the adapter come out of the consumer into another bus, each once, per-job order kept per topic', async () => {
    const source = new InMemoryEventBus({ maxQueue: 100_000 });
    const adapter = new KafkaEventAdapter(source, { brokers, clientId: 'baton-tests-producer', topicPrefix: prefix, kafkaConfig: { logLevel: kafkajs.logLevel.NOTHING } });
    const published: RuntimeEvent[] = [];
    source.subscribe((e) => void published.push(e), { maxQueue: 100_000 });
    await publishInterleaved(source, ['a', 'b', 'c', 'd'], 25);
    await adapter.close();
    expect(adapter.stats).toMatchObject({ written: 100, failed: 0 });

    const target = new InMemoryEventBus({ maxQueue: 100_000 });
    const received: RuntimeEvent[] = [];
    target.subscribe((e) => void received.push(e), { maxQueue: 100_000 });
    const consumer = new KafkaEventConsumer(target, { kafka, groupId: `${prefix}-group`, topicPrefix: prefix, fromBeginning: true });
    await consumer.start();
    try {
      await vi.waitFor(() => expect(received).toHaveLength(100), { timeout: 30_000, interval: 100 });
    } finally {
      await consumer.close();
    }
    expect(received.map((e) => e.id).sort()).toEqual(published.map((e) => e.id).sort());
    for (const jobId of ['a', 'b', 'c', 'd']) {
      for (const type of ['checkpoint.saved', 'model.delta', 'step.started']) {
        const ids = (list: RuntimeEvent[]) => list.filter((e) => e.jobId === jobId && e.type === type).map((e) => e.id);
        expect(ids(received)).toEqual(ids(published));
      }
    }
  }, 60_000);
});
