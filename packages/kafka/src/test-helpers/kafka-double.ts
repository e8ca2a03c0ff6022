import type { Batch, Consumer, ConsumerRunConfig, ConsumerSubscribeTopics, KafkaMessage, Message, Producer, ProducerBatch, RecordMetadata } from 'kafkajs';

/** A stored message, as a consumer reads it back. */
export interface StoredMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
  readonly timestamp: string;
}

/** An error shaped like kafkajs's (`name`, `retriable`). */
export function kafkaError(name: string, retriable: boolean, message = name): Error {
  return Object.assign(new Error(message), { name, retriable });
}

function toText(value: Buffer | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** Java's String.hashCode, enough to spread keys over partitions deterministically. */
function partitionOf(key: string | null, partitions: number): number {
  if (key === null) return 0;
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(31, h) + key.charCodeAt(i)) | 0;
  return Math.abs(h) % partitions;
}

/**
 * A recording double of kafkajs: `producer()` and `consumer()` implement the parts of kafkajs's
 * `Producer` and `Consumer` interfaces the adapters use, over an in-memory log of topics with
 * `partitions` partitions each, and committed offsets per consumer group. No broker.
 */
export class KafkaDouble {
  readonly partitions: number;
  /** topic → partition → messages. */
  readonly #log = new Map<string, StoredMessage[][]>();
  /** `group\0topic\0partition` → next offset to read. */
  readonly committed = new Map<string, number>();
  /** Every `sendBatch` request, in call order (failed ones included). */
  readonly sendBatchCalls: ProducerBatch[] = [];
  /** Errors the next `sendBatch` calls throw, one each, before writing anything. */
  readonly failNext: Error[] = [];
  /** Errors the next `connect` calls throw. */
  readonly failConnect: Error[] = [];
  /** While set, `sendBatch` waits for it (to hold batches in flight). */
  gate: Promise<void> | undefined;
  inFlight = 0;
  maxInFlight = 0;
  connects = 0;
  disconnects = 0;

  constructor(options: { partitions?: number } = {}) {
    this.partitions = options.partitions ?? 3;
  }

  /** Holds every `sendBatch` until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  /** Every stored message, of one topic or all, partition by partition. */
  messages(topic?: string): StoredMessage[] {
    const topics = topic === undefined ? [...this.#log.keys()].sort() : [topic];
    return topics.flatMap((t) => (this.#log.get(t) ?? []).flat());
  }

  topics(): string[] {
    return [...this.#log.keys()].sort();
  }

  /** Appends a message as a producer would (also for planting bad ones). */
  append(topic: string, message: Message): StoredMessage {
    let partitions = this.#log.get(topic);
    if (!partitions) this.#log.set(topic, (partitions = Array.from({ length: this.partitions }, () => [])));
    const key = toText(message.key);
    const partition = message.partition ?? partitionOf(key, this.partitions);
    const list = partitions[partition]!;
    const stored: StoredMessage = {
      topic,
      partition,
      offset: String(list.length),
      key,
      value: toText(message.value),
      headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, toText(v as Buffer | string)!])),
      timestamp: message.timestamp ?? String(Date.now()),
    };
    list.push(stored);
    return stored;
  }

  producer(): Producer {
    const producer = {
      connect: async () => {
        this.connects++;
        const error = this.failConnect.shift();
        if (error) throw error;
      },
      disconnect: async () => {
        this.disconnects++;
      },
      sendBatch: async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
        this.sendBatchCalls.push(batch);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          await this.gate;
          const error = this.failNext.shift();
          if (error) throw error;
          const out: RecordMetadata[] = [];
          for (const { topic, messages } of batch.topicMessages ?? []) {
            for (const m of messages) {
              const stored = this.append(topic, m);
              out.push({ topicName: topic, partition: stored.partition, errorCode: 0, offset: stored.offset });
            }
          }
          return out;
        } finally {
          this.inFlight--;
        }
      },
      send: async () => {
        throw new Error('not used by the adapter');
      },
    };
    return producer as unknown as Producer;
  }

  consumer(config: { groupId: string }): Consumer & ConsumerDouble {
    return new ConsumerDouble(this, config.groupId) as unknown as Consumer & ConsumerDouble;
  }

  /** @internal */
  partitionsOf(topic: string): StoredMessage[][] {
    return this.#log.get(topic) ?? [];
  }
}

/** The consumer side: polls the log from the group's committed offsets and calls `eachBatch`. */
export class ConsumerDouble {
  #topics: string[] = [];
  #fromBeginning = false;
  #running = false;
  #loop: Promise<void> | undefined;
  connected = false;

  constructor(
    private readonly kafka: KafkaDouble,
    readonly groupId: string,
  ) {}

  async connect(): Promise<void> {
    this.connected = true;
  }

  async subscribe(subscription: ConsumerSubscribeTopics): Promise<void> {
    this.#topics = subscription.topics.map(String);
    this.#fromBeginning = subscription.fromBeginning ?? false;
    // Like a new group without committed offsets: start at the end unless fromBeginning.
    for (const topic of this.#topics) {
      for (let p = 0; p < this.kafka.partitions; p++) {
        const key = `${this.groupId}\u0000${topic}\u0000${p}`;
        if (!this.kafka.committed.has(key)) this.kafka.committed.set(key, this.#fromBeginning ? 0 : (this.kafka.partitionsOf(topic)[p]?.length ?? 0));
      }
    }
  }

  async run(config: ConsumerRunConfig): Promise<void> {
    const eachBatch = config.eachBatch!;
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        let delivered = false;
        for (const topic of this.#topics) {
          const partitions = this.kafka.partitionsOf(topic);
          for (let p = 0; p < partitions.length && this.#running; p++) {
            const key = `${this.groupId}\u0000${topic}\u0000${p}`;
            const from = this.kafka.committed.get(key) ?? 0;
            const messages = partitions[p]!.slice(from);
            if (messages.length === 0) continue;
            delivered = true;
            let next = from;
            const batch = {
              topic,
              partition: p,
              highWatermark: String(partitions[p]!.length),
              messages: messages.map((m) => toKafkaMessage(m)),
            } as unknown as Batch;
            await eachBatch({
              batch,
              resolveOffset: (offset: string) => {
                next = Math.max(next, Number(offset) + 1);
              },
              heartbeat: async () => {},
              pause: () => () => {},
              commitOffsetsIfNecessary: async () => {},
              uncommittedOffsets: () => ({ topics: [] }),
              isRunning: () => this.#running,
              isStale: () => false,
            });
            this.kafka.committed.set(key, next);
          }
        }
        if (!delivered) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async disconnect(): Promise<void> {
    await this.stop();
    this.connected = false;
  }
}

function toKafkaMessage(m: StoredMessage): KafkaMessage {
  return {
    key: m.key === null ? null : Buffer.from(m.key),
    value: m.value === null ? null : Buffer.from(m.value),
    timestamp: m.timestamp,
    attributes: 0,
    offset: m.offset,
    headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v)])),
  };
}
