import { InMemoryEventBus } from '@baton/agent-runtime';
import { InvalidArgumentError } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { KafkaAdapterClosedError } from './errors/kafka-adapter-closed-error.js';
import { isRetriableKafkaError } from './errors/retriable.js';
import { EVENT_CATEGORIES, topicsOf } from './event-topics.js';
import { KafkaEventAdapter, type KafkaConfig } from './kafka-event-adapter.js';
import { KafkaEventConsumer, type KafkaEventConsumerOptions } from './kafka-event-consumer.js';
import { KafkaDouble, kafkaError } from './test-helpers/kafka-double.js';

describe('options', () => {
  const double = new KafkaDouble();
  it.each<[string, Partial<KafkaConfig>]>([
    ['brokers', {}],
    ['brokers', { brokers: [] }],
    ['brokers', { brokers: ['no-port'] }],
    ['brokers', { brokers: ['k:9092'], kafka: double }],
    ['producer', { producer: {} as never }],
    ['producer', { producer: double.producer(), brokers: ['k:9092'] }],
    ['topicPrefix', { kafka: double, topicPrefix: 'has space' }],
    ['topicPrefix', { kafka: double, topicPrefix: '' }],
    ['batchSize', { kafka: double, batchSize: 0 }],
    ['maxInFlightBatches', { kafka: double, maxInFlightBatches: 1.5 }],
    ['maxBuffered', { kafka: double, maxBuffered: -1 }],
    ['lingerMs', { kafka: double, lingerMs: -1 }],
    ['retry.retries', { kafka: double, retry: { retries: -1 } }],
    ['acks', { kafka: double, acks: 2 as never }],
    ['onError', { kafka: double, onError: 'x' as never }],
  ])('KafkaEventAdapter rejects a bad %s with InvalidArgumentError', (argument, config) => {
    const build = () => new KafkaEventAdapter(new InMemoryEventBus(), config as KafkaConfig);
    expect(build).toThrow(InvalidArgumentError);
    expect(build).toThrow(expect.objectContaining({ argument }));
  });

  it.each<[string, Partial<KafkaEventConsumerOptions>]>([
    ['groupId', { kafka: double }],
    ['categories', { kafka: double, groupId: 'g', categories: ['jobs' as never] }],
    ['fromBeginning', { kafka: double, groupId: 'g', fromBeginning: 'yes' as never }],
    ['maxTrackedJobs', { kafka: double, groupId: 'g', maxTrackedJobs: 0 }],
    ['consumer', { consumer: {} as never }],
  ])('KafkaEventConsumer rejects a bad %s with InvalidArgumentError', (argument, options) => {
    const build = () => new KafkaEventConsumer(new InMemoryEventBus(), options as KafkaEventConsumerOptions);
    expect(build).toThrow(InvalidArgumentError);
    expect(build).toThrow(expect.objectContaining({ argument }));
  });

  it('builds its own kafkajs client from brokers (no connection until the first write)', async () => {
    const adapter = new KafkaEventAdapter(new InMemoryEventBus(), { brokers: ['127.0.0.1:1'], clientId: 'test' });
    expect(adapter.topicFor('tool.failed')).toBe('baton.events.tool');
    await adapter.close();
    expect(adapter.stats.written).toBe(0);
  });

  it('a consumer cannot start after close', async () => {
    const consumer = new KafkaEventConsumer(new InMemoryEventBus(), { kafka: new KafkaDouble(), groupId: 'g' });
    await consumer.close();
    await expect(consumer.start()).rejects.toBeInstanceOf(KafkaAdapterClosedError);
  });

  it('topics: one per category of the runtime event types', () => {
    expect(EVENT_CATEGORIES).toEqual(['job', 'step', 'model', 'tool', 'action', 'policy', 'budget', 'checkpoint', 'interruption']);
    expect(topicsOf('p', ['job', 'tool'])).toEqual(['p.job', 'p.tool']);
  });

  it('which kafkajs errors are worth another attempt', () => {
    expect(isRetriableKafkaError(kafkaError('KafkaJSProtocolError', true))).toBe(true);
    expect(isRetriableKafkaError(kafkaError('KafkaJSNumberOfRetriesExceeded', false))).toBe(true);
    expect(isRetriableKafkaError(kafkaError('KafkaJSProtocolError', false))).toBe(false);
    expect(isRetriableKafkaError(new Error('bug'))).toBe(false);
    expect(isRetriableKafkaError('nope')).toBe(false);
  });
});
