import type { EventBus, RuntimeEvent, RuntimeEventInput } from '@baton/agent-runtime';
import { InvalidArgumentError } from '@baton/llm-client';
import type { Consumer, ConsumerConfig, EachBatchPayload } from 'kafkajs';
import { KafkaAdapterClosedError } from './errors/kafka-adapter-closed-error.js';
import { fromMessage } from './event-message.js';
import { checkTopicPrefix, topicsOf, type EventCategory } from './event-topics.js';
import { guarded, kafkaOf, optionalFunction, positiveInt, type KafkaConnectionOptions } from './kafka-connection.js';
import { SeenEvents } from './seen-events.js';

export interface KafkaEventConsumerOptions extends KafkaConnectionOptions {
  /** A kafkajs consumer you own (its group chosen by you; connected and disconnected by the adapter all the same). */
  readonly consumer?: Pick<Consumer, 'connect' | 'subscribe' | 'run' | 'stop' | 'disconnect'> | undefined;
  /** The consumer group; required unless `consumer` is given. */
  readonly groupId?: string | undefined;
  /** Settings of the consumer the adapter creates, besides `groupId`. */
  readonly consumerConfig?: Omit<ConsumerConfig, 'groupId'> | undefined;
  /** Topics are `<topicPrefix>.<category>`; default `baton.events`. */
  readonly topicPrefix?: string | undefined;
  /** Which categories to read (default all): `['job', 'action']` for a dashboard of job states. */
  readonly categories?: readonly EventCategory[] | undefined;
  /** A group with no committed offset starts at the oldest retained message (default false: new ones only). */
  readonly fromBeginning?: boolean | undefined;
  /** Jobs whose seen seqs are remembered for deduplication; the least recently seen is forgotten first. Default 10,000. */
  readonly maxTrackedJobs?: number | undefined;
  /** A message that is not a valid event (`CorruptKafkaMessageError`; skipped), or an event the local bus refused. */
  readonly onError?: ((error: unknown, info: { topic: string; partition: number; offset: string }) => void) | undefined;
}

export interface KafkaEventConsumerStats {
  /** Messages read. */
  readonly received: number;
  /** Events published on the local bus. */
  readonly published: number;
  /** Messages dropped as redeliveries of a `(jobId, seq)` already published. */
  readonly duplicates: number;
  /** Messages that were not valid events, or that the bus refused. */
  readonly failed: number;
}

/**
 * Feeds events from Kafka into a local `EventBus`: every message of the `<topicPrefix>.<category>`
 * topics is validated with the runtime's event parser, dropped when its `(jobId, seq)` was
 * already published (Kafka delivers at least once), and published on the bus with its original
 * `id` and `at` (the bus gives it the next seq of the job on this bus). Each partition's messages
 * are published in order, and an offset is committed only after its message was handled.
 *
 * A job's events of one category come in their order; events of different categories (topics) of
 * one job may interleave differently than they were published.
 */
export class KafkaEventConsumer {
  readonly #bus: EventBus;
  readonly #consumer: Pick<Consumer, 'connect' | 'subscribe' | 'run' | 'stop' | 'disconnect'>;
  readonly #topics: string[];
  readonly #fromBeginning: boolean;
  readonly #seen: SeenEvents;
  readonly #onError: (error: unknown, info: { topic: string; partition: number; offset: string }) => void;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #received = 0;
  #published = 0;
  #duplicates = 0;
  #failed = 0;

  constructor(eventBus: EventBus, options: KafkaEventConsumerOptions) {
    if (!eventBus || typeof eventBus.publish !== 'function') throw new InvalidArgumentError('eventBus', 'an EventBus is required');
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an options object');
    this.#bus = eventBus;
    this.#topics = topicsOf(checkTopicPrefix(options.topicPrefix), options.categories);
    if (options.fromBeginning !== undefined && typeof options.fromBeginning !== 'boolean') throw new InvalidArgumentError('fromBeginning', 'must be a boolean');
    this.#fromBeginning = options.fromBeginning ?? false;
    this.#seen = new SeenEvents(positiveInt(options.maxTrackedJobs, 'maxTrackedJobs', 10_000));
    this.#onError = guarded(optionalFunction(options.onError, 'onError'));
    if (options.consumer !== undefined) {
      if (typeof options.consumer?.run !== 'function') throw new InvalidArgumentError('consumer', 'must be a kafkajs Consumer');
      if (options.kafka !== undefined || options.brokers !== undefined) throw new InvalidArgumentError('consumer', 'pass one of consumer, kafka, brokers');
      this.#consumer = options.consumer;
    } else {
      const groupId = options.groupId;
      if (typeof groupId !== 'string' || groupId === '') throw new InvalidArgumentError('groupId', 'a consumer group is required');
      this.#consumer = kafkaOf(options, 'consumer').consumer({ ...options.consumerConfig, groupId });
    }
  }

  /** The topics read. */
  get topics(): readonly string[] {
    return this.#topics;
  }

  get stats(): KafkaEventConsumerStats {
    return { received: this.#received, published: this.#published, duplicates: this.#duplicates, failed: this.#failed };
  }

  /** Connects, subscribes and starts consuming; resolves once running. Idempotent. */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new KafkaAdapterClosedError('KafkaEventConsumer'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /** Stops consuming (the batch in hand is finished and committed) and disconnects. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #start(): Promise<void> {
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: this.#topics, fromBeginning: this.#fromBeginning });
    await this.#consumer.run({ autoCommit: true, eachBatchAutoResolve: false, eachBatch: (payload) => this.#eachBatch(payload) });
  }

  async #close(): Promise<void> {
    if (this.#starting) {
      await this.#starting.catch(() => undefined);
      await this.#consumer.stop();
    }
    await this.#consumer.disconnect();
  }

  async #eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      this.#received++;
      await this.#handle(topic, partition, message.offset, () => fromMessage(topic, partition, message));
      resolveOffset(message.offset);
      await heartbeat();
    }
  }

  async #handle(topic: string, partition: number, offset: string, decode: () => RuntimeEvent): Promise<void> {
    let event: RuntimeEvent;
    try {
      event = decode();
    } catch (error) {
      this.#failed++;
      this.#onError(error, { topic, partition, offset });
      return;
    }
    if (this.#seen.has(event.scopeId, event.jobId, event.seq)) {
      this.#duplicates++;
      return;
    }
    const input = { type: event.type, jobId: event.jobId, scopeId: event.scopeId, sessionId: event.sessionId, traceId: event.traceId, data: event.data, id: event.id, at: event.at } as RuntimeEventInput;
    try {
      await this.#bus.publish(input);
    } catch (error) {
      this.#failed++;
      this.#onError(error, { topic, partition, offset });
      return;
    }
    this.#seen.add(event.scopeId, event.jobId, event.seq);
    this.#published++;
  }
}
