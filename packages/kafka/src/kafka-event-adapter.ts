import { EventBatcher, type EventBatcherStats, type EventBus, type EventFilter, type EventGap, type EventUnsubscribe, type RuntimeEvent } from '@baton/agent-runtime';
import { InvalidArgumentError } from '@baton/llm-client';
import type { CompressionTypes, Producer, ProducerConfig, TopicMessages } from 'kafkajs';
import { KafkaSendError } from './errors/kafka-send-error.js';
import { isRetriableKafkaError } from './errors/retriable.js';
import { toMessage } from './event-message.js';
import { checkTopicPrefix, topicOf } from './event-topics.js';
import { guarded, kafkaOf, nonNegativeInt, optionalFunction, positiveInt, type KafkaConnectionOptions } from './kafka-connection.js';

export interface KafkaRetryOptions {
  /** Attempts after the first for a batch that failed with a broker or network error; default 5. */
  readonly retries?: number | undefined;
  /** Delay before the first retry; doubled each time (with jitter) up to `maxDelayMs`. Default 200. */
  readonly initialDelayMs?: number | undefined;
  /** Default 10,000. */
  readonly maxDelayMs?: number | undefined;
}

/** Options of `KafkaEventAdapter`: how to reach Kafka, where events go, and the bounds of the writes. */
export interface KafkaConfig extends KafkaConnectionOptions {
  /** A kafkajs producer you own (connected by you, never disconnected by the adapter); instead of `kafka` or `brokers`. */
  readonly producer?: Pick<Producer, 'sendBatch'> | undefined;
  /** Settings of the producer the adapter creates (not used with `producer`). */
  readonly producerConfig?: ProducerConfig | undefined;
  /** Events go to `<topicPrefix>.<category>` (`baton.events.job`, `….model`, …). Default `baton.events`. */
  readonly topicPrefix?: string | undefined;
  /** Messages per `sendBatch`, at most; default 500. */
  readonly batchSize?: number | undefined;
  /** Batches being written at once, at most; default 4 (so at most `batchSize × 4` messages in flight). */
  readonly maxInFlightBatches?: number | undefined;
  /** How long a batch that is not full waits for more events; default 0 (the end of the current tick). */
  readonly lingerMs?: number | undefined;
  /** Events held while writes are at their bound (also the adapter's queue on the bus). Default 10,000; past it the oldest are dropped (`onGap`). */
  readonly maxBuffered?: number | undefined;
  readonly retry?: KafkaRetryOptions | undefined;
  /** `-1` (default: every in-sync replica), `1` or `0`. */
  readonly acks?: -1 | 0 | 1 | undefined;
  readonly compression?: CompressionTypes | undefined;
  /** Which bus events to write (default every event). */
  readonly filter?: EventFilter | undefined;
  readonly onGap?: ((gap: EventGap) => void) | undefined;
  /** A batch lost after its retries (`KafkaSendError`), or a producer that failed to connect. */
  readonly onError?: ((error: unknown, info: { events: number }) => void) | undefined;
  /** Tests: the wait between retries, and the jitter source. */
  readonly _internal?: { readonly sleep?: (ms: number) => Promise<void>; readonly random?: () => number } | undefined;
}

export interface KafkaEventAdapterStats extends EventBatcherStats {
  /** Batches sent again after a broker or network error. */
  readonly retries: number;
}

/**
 * Writes every event of an `EventBus` to Kafka over kafkajs. Construction subscribes to the
 * bus; each event goes to `<topicPrefix>.<category>` keyed by its job id, so all of a job's events
 * of one category land in one partition in order. Events go out in batches (`sendBatch`) with a
 * bound on batches in flight, never two in flight for one job; a batch that fails with a broker
 * or network error is retried with backoff, and one that still fails is reported to `onError`.
 * Delivery is at least once (a retried batch may have been partly written): consumers dedupe on
 * `(jobId, seq)`, as `KafkaEventConsumer` does.
 *
 * `close()` unsubscribes, writes what it holds, and disconnects the producer it created.
 */
export class KafkaEventAdapter {
  readonly #producer: Pick<Producer, 'sendBatch'>;
  readonly #owned: Producer | undefined;
  readonly #batcher: EventBatcher;
  readonly #prefix: string;
  readonly #acks: -1 | 0 | 1;
  readonly #compression: CompressionTypes | undefined;
  readonly #retries: number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #onError: (error: unknown, info: { events: number }) => void;
  #connecting: Promise<void> | undefined;
  #unsubscribe: EventUnsubscribe | undefined;
  #closing: Promise<void> | undefined;
  #retried = 0;

  constructor(eventBus: EventBus, config: KafkaConfig) {
    if (!eventBus || typeof eventBus.subscribe !== 'function') throw new InvalidArgumentError('eventBus', 'an EventBus is required');
    if (typeof config !== 'object' || config === null) throw new InvalidArgumentError('config', 'must be an options object');
    this.#prefix = checkTopicPrefix(config.topicPrefix);
    const batchSize = positiveInt(config.batchSize, 'batchSize', 500);
    const maxInFlightBatches = positiveInt(config.maxInFlightBatches, 'maxInFlightBatches', 4);
    const maxBuffered = positiveInt(config.maxBuffered, 'maxBuffered', 10_000);
    const lingerMs = nonNegativeInt(config.lingerMs, 'lingerMs', 0);
    this.#retries = nonNegativeInt(config.retry?.retries, 'retry.retries', 5);
    this.#initialDelayMs = nonNegativeInt(config.retry?.initialDelayMs, 'retry.initialDelayMs', 200);
    this.#maxDelayMs = nonNegativeInt(config.retry?.maxDelayMs, 'retry.maxDelayMs', 10_000);
    const acks = config.acks ?? -1;
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new InvalidArgumentError('acks', 'must be -1, 0 or 1');
    this.#acks = acks;
    this.#compression = config.compression;
    const onGap = guarded(optionalFunction(config.onGap, 'onGap'));
    this.#onError = guarded(optionalFunction(config.onError, 'onError'));
    this.#sleep = optionalFunction(config._internal?.sleep, '_internal.sleep') ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = optionalFunction(config._internal?.random, '_internal.random') ?? Math.random;
    if (config.producer !== undefined) {
      if (typeof config.producer?.sendBatch !== 'function') throw new InvalidArgumentError('producer', 'must be a kafkajs Producer');
      if (config.kafka !== undefined || config.brokers !== undefined) throw new InvalidArgumentError('producer', 'pass one of producer, kafka, brokers');
      this.#producer = config.producer;
      this.#connecting = Promise.resolve();
    } else {
      this.#owned = kafkaOf(config, 'producer').producer(config.producerConfig);
      this.#producer = this.#owned;
    }
    this.#batcher = new EventBatcher({ write: (batch) => this.#write(batch), batchSize, maxInFlightBatches, maxBuffered, lingerMs, onGap });
    // The handler never returns a promise: the bus hands events over as fast as they come.
    this.#unsubscribe = eventBus.subscribe((event) => this.#batcher.offer(event), { ...config.filter, maxQueue: maxBuffered, overflow: 'drop-oldest', onGap });
  }

  /** The topic of an event type: `<topicPrefix>.<category>`. */
  topicFor(type: RuntimeEvent['type']): string {
    return topicOf(this.#prefix, type);
  }

  get stats(): KafkaEventAdapterStats {
    return { ...this.#batcher.stats, retries: this.#retried };
  }

  /** Resolves once every event published on the bus before the call is written, reported to `onError`, or dropped. */
  async flush(): Promise<void> {
    // The bus hands events over on microtasks: after one turn of the loop it has given us all.
    await new Promise((resolve) => setImmediate(resolve));
    await this.#batcher.drained(this.#batcher.offered);
  }

  /** Unsubscribes, writes what it holds (retries included), and disconnects the producer it created. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.flush();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await this.#batcher.drained();
    if (this.#owned && this.#connecting) await this.#owned.disconnect().catch((error: unknown) => this.#onError(error, { events: 0 }));
  }

  /** Connects the producer the adapter created, once; a failed connect is tried again by the next batch. */
  #connected(): Promise<void> {
    if (!this.#connecting) {
      const attempt = this.#owned!.connect();
      this.#connecting = attempt;
      attempt.catch(() => {
        if (this.#connecting === attempt) this.#connecting = undefined;
      });
    }
    return this.#connecting;
  }

  async #write(batch: readonly RuntimeEvent[]): Promise<void> {
    const byTopic = new Map<string, TopicMessages>();
    for (const event of batch) {
      const topic = topicOf(this.#prefix, event.type);
      let entry = byTopic.get(topic);
      if (!entry) byTopic.set(topic, (entry = { topic, messages: [] }));
      entry.messages.push(toMessage(event));
    }
    const request = { topicMessages: [...byTopic.values()], acks: this.#acks, ...(this.#compression !== undefined ? { compression: this.#compression } : {}) };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#connected();
        await this.#producer.sendBatch(request);
        return;
      } catch (error) {
        const retriable = isRetriableKafkaError(error);
        if (!retriable || attempt > this.#retries) {
          this.#onError(new KafkaSendError({ events: batch.length, attempts: attempt, retryable: retriable, cause: error }), { events: batch.length });
          throw error;
        }
        this.#retried++;
        const delay = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** (attempt - 1));
        await this.#sleep(Math.round(delay * (0.5 + this.#random() / 2)));
      }
    }
  }
}
