import { InMemoryEventBus, type EventGap } from '@baton/agent-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaSendError } from './errors/kafka-send-error.js';
import { KafkaEventAdapter, type KafkaConfig } from './kafka-event-adapter.js';
import { KafkaDouble, kafkaError } from './test-helpers/kafka-double.js';
import { eventsOf, tick } from './test-helpers/events.js';

const adapters: KafkaEventAdapter[] = [];
afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
});

function setup(config: Partial<KafkaConfig> = {}) {
  const bus = new InMemoryEventBus();
  const double = new KafkaDouble();
  const errors: Array<{ error: unknown; events: number }> = [];
  const delays: number[] = [];
  const adapter = new KafkaEventAdapter(bus, {
    kafka: double,
    onError: (error, info) => errors.push({ error, events: info.events }),
    _internal: { sleep: async (ms) => void delays.push(ms), random: () => 1 },
    ...config,
  });
  adapters.push(adapter);
  return { bus, double, adapter, errors, delays };
}

const started = (jobId: string) => ({ type: 'job.started' as const, jobId, scopeId: 'acme', data: { from: 'queued' as const, attempt: 1 } });
const delta = (jobId: string, text: string) => ({ type: 'model.delta' as const, jobId, scopeId: 'acme', data: { model: 'm', textDelta: text } });

describe('KafkaEventAdapter: broker errors', () => {
  it('retries a batch after a broker error with exponential backoff, and it is written once the broker is back', async () => {
    const { bus, double, adapter, errors, delays } = setup({ retry: { retries: 5, initialDelayMs: 100, maxDelayMs: 250 } });
    double.failNext.push(kafkaError('KafkaJSConnectionError', true), kafkaError('KafkaJSRequestTimeoutError', true), kafkaError('KafkaJSNumberOfRetriesExceeded', false));
    await bus.publish(started('a'));
    await adapter.flush();
    expect(delays).toEqual([100, 200, 250]);
    expect(double.messages()).toHaveLength(1);
    expect(adapter.stats).toMatchObject({ written: 1, failed: 0, retries: 3 });
    expect(errors).toEqual([]);
  });

  it('while a job\'s batch is retried, its later events wait (order kept) and other jobs go on', async () => {
    let wake!: () => void;
    const { bus, double, adapter } = setup({ _internal: { sleep: () => new Promise<void>((resolve) => (wake = resolve)), random: () => 1 } });
    double.failNext.push(kafkaError('KafkaJSConnectionError', true));
    await bus.publish(delta('a', '1'));
    await tick();
    await tick(); // a#1 failed once and waits to be retried
    await bus.publish(delta('a', '2'));
    await bus.publish(delta('b', '1'));
    await tick();
    await tick();
    expect(eventsOf(double.messages()).map((e) => `${e.jobId}#${e.seq}`)).toEqual(['b#1']);
    wake();
    await adapter.flush();
    expect(eventsOf(double.messages('baton.events.model')).filter((e) => e.jobId === 'a').map((e) => e.seq)).toEqual([1, 2]);
  });

  it('a non-retriable error: the batch is reported lost (KafkaSendError) at once, later events are written', async () => {
    const { bus, double, adapter, errors, delays } = setup();
    double.failNext.push(kafkaError('KafkaJSProtocolError', false, 'The request included a message larger than the max message size the server will accept'));
    await bus.publish(started('a'));
    await adapter.flush();
    await bus.publish(delta('a', 'next'));
    await adapter.flush();
    expect(delays).toEqual([]);
    expect(errors).toHaveLength(1);
    const { error, events } = errors[0]!;
    expect(events).toBe(1);
    expect(error).toBeInstanceOf(KafkaSendError);
    expect(error).toMatchObject({ code: 'kafka_send_failed', retryable: false, attempts: 1, events: 1 });
    expect(String((error as Error).message)).toContain('larger than the max message size');
    expect(adapter.stats).toMatchObject({ written: 1, failed: 1 });
    expect(eventsOf(double.messages()).map((e) => e.type)).toEqual(['model.delta']);
  });

  it('gives up after retry.retries and reports the batch as lost', async () => {
    const { bus, double, adapter, errors } = setup({ retry: { retries: 2, initialDelayMs: 1 } });
    for (let i = 0; i < 3; i++) double.failNext.push(kafkaError('KafkaJSConnectionError', true, 'Connection error: ECONNREFUSED'));
    await bus.publish(started('a'));
    await bus.publish(started('b'));
    await adapter.flush();
    expect(errors.map((e) => e.error)).toEqual([expect.objectContaining({ code: 'kafka_send_failed', retryable: true, attempts: 3, events: 2 })]);
    expect(adapter.stats).toMatchObject({ written: 0, failed: 2, retries: 2 });
    expect(double.sendBatchCalls).toHaveLength(3);
  });

  it('a producer that fails to connect is connected again by the next attempt', async () => {
    const { bus, double, adapter } = setup();
    double.failConnect.push(kafkaError('KafkaJSConnectionError', true, 'Connection timeout'));
    await bus.publish(started('a'));
    await adapter.flush();
    expect(double.connects).toBe(2);
    expect(double.messages()).toHaveLength(1);
  });

  it('past maxBuffered while Kafka is slow, the oldest events are dropped and onGap says which', async () => {
    const gaps: EventGap[] = [];
    const { bus, double, adapter } = setup({ maxBuffered: 5, batchSize: 2, maxInFlightBatches: 1, onGap: (gap) => gaps.push(gap) });
    const release = double.hold();
    for (let i = 1; i <= 4; i++) await bus.publish(delta('a', String(i)));
    await tick();
    await tick(); // a#1..2 in flight, a#3..4 buffered
    for (let i = 5; i <= 12; i++) {
      await bus.publish(delta('a', String(i)));
      await tick();
    }
    release();
    await adapter.flush();
    const written = eventsOf(double.messages()).map((e) => e.seq);
    expect(written).toEqual([1, 2, 8, 9, 10, 11, 12]);
    expect(adapter.stats.dropped).toBe(5);
    expect(gaps.reduce((n, g) => n + g.dropped, 0)).toBe(5);
    expect(gaps[0]!.first).toEqual({ jobId: 'a', seq: 3 });
  });
});
