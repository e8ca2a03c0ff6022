import { InvalidArgumentError } from '@baton/llm-client';
import { EventBatcher, type EventBus, type EventFilter, type EventGap, type EventUnsubscribe, type RuntimeEvent } from '@baton/agent-runtime';
import type { Redis } from 'ioredis';
import { keyPart, positiveInt } from '../connection/key-prefix.js';
import { RedisConnection, type RedisConnectionOptions } from '../connection/redis-connection.js';
import { mapRedisError } from '../errors/map-redis-error.js';
import { checkEntryId, entriesOfReadReply, parseStreamEntry, type StreamEntry } from './stream-entries.js';
import { writeXaddPipeline } from './xadd-pipeline.js';

export interface RedisStreamsAdapterOptions extends RedisConnectionOptions {
  /** Key of the single stream, or prefix of the per-scope ones (`<prefix>:<scopeId>`). Default `baton:events`. */
  readonly streamPrefix?: string | undefined;
  /** `scope` (default): one stream per scope; `single`: every event in the stream `streamPrefix`. */
  readonly partition?: 'scope' | 'single' | undefined;
  /** Approximate bound on each stream's length (`XADD … MAXLEN ~`); default 10,000. */
  readonly maxLen?: number | undefined;
  /** Events per pipeline, at most; default 256. */
  readonly batchSize?: number | undefined;
  /** Pipelines in flight at once, at most; default 4. Past that, events wait in a buffer. */
  readonly maxInFlightBatches?: number | undefined;
  /** Which bus events to write (default every event). */
  readonly filter?: EventFilter | undefined;
  /**
   * Events held while writes are at their bound (default 10,000; also the adapter's queue on the
   * bus, for bursts published in one tick). Past it the oldest are dropped and `onGap` says which.
   */
  readonly maxBuffered?: number | undefined;
  /** Events dropped because the buffer was full (default: ignored; `stats.dropped` counts them). */
  readonly onGap?: ((gap: EventGap) => void) | undefined;
  /**
   * Called when a write fails after ioredis's own retries (`info.events` events lost) and when
   * `readGroup` meets an entry that does not parse (`CorruptStreamEntryError`; it stays pending).
   * Default: ignored.
   */
  readonly onError?: ((error: unknown, info: { events: number }) => void) | undefined;
}

/** What the streams adapter has written so far, and what it holds now. */
export interface StreamWriterStats {
  /** Events appended. */
  readonly written: number;
  /** Events whose write failed (reported to `onError`). */
  readonly failed: number;
  /** Events dropped because the buffer was full (reported to `onGap`). */
  readonly dropped: number;
  /** Events waiting for a pipeline now. */
  readonly buffered: number;
  /** Pipelines being written now (at most `maxInFlightBatches`). */
  readonly inFlightBatches: number;
}

export interface ReadEventsOptions {
  /** First entry id to return (inclusive); default the start of the stream. */
  readonly fromId?: string | undefined;
  /** Return entries after this id (exclusive): pass the last id read to resume. Overrides `fromId`. */
  readonly afterId?: string | undefined;
  /** At most this many entries; default 100. */
  readonly count?: number | undefined;
}

export interface ReadGroupOptions {
  /** At most this many entries; default 100. */
  readonly count?: number | undefined;
  /** Wait up to this long for new entries when there are none (a dedicated connection blocks, not the command one). */
  readonly blockMs?: number | undefined;
  /** Re-read this consumer's delivered but unacknowledged entries instead of new ones. */
  readonly pending?: boolean | undefined;
}

/**
 * Writes every event of an `EventBus` to Redis Streams and reads them back. Construction
 * subscribes to the bus; each event is appended as JSON (field `event`) with an automatic id to
 * its scope's stream (or one stream), trimmed to about `maxLen` entries, in batched pipelines with
 * a bound on writes in flight and never two pipelines in flight with events of the same job, so
 * each job's events are appended in order. Reads validate each entry with the runtime's event
 * parser.
 *
 * `close()` unsubscribes, writes what it still holds, then closes the connections it opened.
 */
export class RedisStreamsAdapter {
  readonly #connection: RedisConnection;
  readonly #batcher: EventBatcher;
  readonly #prefix: string;
  readonly #single: boolean;
  readonly #onError: (error: unknown, info: { events: number }) => void;
  readonly #blockingIdle: Redis[] = [];
  readonly #blockingAll = new Set<Redis>();
  #unsubscribe: EventUnsubscribe | undefined;
  #closing: Promise<void> | undefined;

  constructor(eventBus: EventBus, options: RedisStreamsAdapterOptions) {
    if (!eventBus || typeof eventBus.subscribe !== 'function') throw new InvalidArgumentError('eventBus', 'an EventBus is required');
    const prefix = options?.streamPrefix ?? 'baton:events';
    if (typeof prefix !== 'string' || prefix === '' || /\s/.test(prefix)) throw new InvalidArgumentError('streamPrefix', 'must be a non-empty string without whitespace');
    const partition = options.partition ?? 'scope';
    if (partition !== 'scope' && partition !== 'single') throw new InvalidArgumentError('partition', "must be 'scope' or 'single'");
    const maxLen = positiveInt(options.maxLen, 'maxLen', 10_000);
    const batchSize = positiveInt(options.batchSize, 'batchSize', 256);
    const maxInFlightBatches = positiveInt(options.maxInFlightBatches, 'maxInFlightBatches', 4);
    const maxBuffered = positiveInt(options.maxBuffered, 'maxBuffered', 10_000);
    if (options.onGap !== undefined && typeof options.onGap !== 'function') throw new InvalidArgumentError('onGap', 'must be a function');
    if (options.onError !== undefined && typeof options.onError !== 'function') throw new InvalidArgumentError('onError', 'must be a function');
    this.#prefix = prefix;
    this.#single = partition === 'single';
    const onError = options.onError ?? (() => {});
    const reportGap = options.onGap;
    const onGap = (gap: EventGap): void => {
      try {
        reportGap?.(gap);
      } catch {
        // Nowhere left to report to.
      }
    };
    this.#onError = (error, info) => {
      try {
        onError(error, info);
      } catch {
        // Nowhere left to report to.
      }
    };
    this.#connection = new RedisConnection('RedisStreamsAdapter', options);
    const pipeline = { connection: this.#connection, streamOf: (event: RuntimeEvent) => this.streamFor(event.scopeId), maxLen, onError: this.#onError };
    // Each batch is one pipeline; commands that fail in it are counted, not the whole batch.
    this.#batcher = new EventBatcher({ write: (batch) => writeXaddPipeline(batch, pipeline), batchSize, maxInFlightBatches, maxBuffered, onGap });
    // The handler never returns a promise, so the bus hands events over as fast as they come;
    // its own queue only holds a burst published within one tick.
    this.#unsubscribe = eventBus.subscribe((event) => this.#batcher.offer(event), {
      ...options.filter,
      maxQueue: maxBuffered,
      overflow: 'drop-oldest',
      onGap,
    });
  }

  /** The stream a scope's events go to. */
  streamFor(scopeId: string): string {
    return this.#single ? this.#prefix : `${this.#prefix}:${keyPart(scopeId)}`;
  }

  /** Events written, failed and dropped so far, and what is buffered or in flight now. */
  get stats(): StreamWriterStats {
    const { written, failed, dropped, buffered, inFlightBatches } = this.#batcher.stats;
    return { written, failed, dropped, buffered, inFlightBatches };
  }

  /**
   * Resolves once every event published on the bus before the call is written (or reported to
   * `onError`): it lets the bus hand over what it queued for this adapter, then waits for the writes.
   */
  async flush(): Promise<void> {
    // The bus hands events over on microtasks: after one turn of the loop it has given us all.
    await new Promise((resolve) => setImmediate(resolve));
    await this.#batcher.drained(this.#batcher.offered);
  }

  /** Reads a stream's events in id order (`XRANGE`). An entry that does not parse throws `CorruptStreamEntryError`. */
  async readEvents(stream: string, options: ReadEventsOptions = {}): Promise<StreamEntry[]> {
    checkStream(stream);
    const count = positiveInt(options.count, 'count', 100);
    const start = options.afterId !== undefined ? `(${checkEntryId(options.afterId, 'afterId')}` : options.fromId !== undefined ? checkEntryId(options.fromId, 'fromId') : '-';
    const reply = await this.#connection.run('streams.readEvents', (client) => client.xrange(stream, start, '+', 'COUNT', count));
    return reply.map(([id, fields]) => parseStreamEntry(stream, id, fields));
  }

  /**
   * Creates a consumer group (`XGROUP CREATE … MKSTREAM`), starting after `startId` (default
   * `0`: every entry still in the stream; `$`: only new ones). Returns false when it exists.
   */
  async createGroup(stream: string, group: string, options: { startId?: string } = {}): Promise<boolean> {
    checkStream(stream);
    checkName(group, 'group');
    const startId = options.startId === undefined || options.startId === '$' ? (options.startId ?? '0') : checkEntryId(options.startId, 'startId');
    return this.#connection.run('streams.createGroup', async (client) => {
      try {
        await client.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
        return true;
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return false;
        throw error;
      }
    });
  }

  /**
   * Reads entries for `consumer` of `group` (`XREADGROUP`): new ones, or with `pending` this
   * consumer's unacknowledged ones. Entries that do not parse are reported to `onError` and left
   * pending (inspect them with `XPENDING`), the others returned. `ack` what you processed.
   */
  async readGroup(stream: string, group: string, consumer: string, options: ReadGroupOptions = {}): Promise<StreamEntry[]> {
    checkStream(stream);
    checkName(group, 'group');
    checkName(consumer, 'consumer');
    const count = positiveInt(options.count, 'count', 100);
    const blockMs = options.blockMs === undefined ? undefined : positiveInt(options.blockMs, 'blockMs', 1);
    const args: Array<string | number> = ['GROUP', group, consumer, 'COUNT', count];
    if (blockMs !== undefined) args.push('BLOCK', blockMs);
    args.push('STREAMS', stream, options.pending ? '0' : '>');
    let reply: unknown;
    if (blockMs === undefined) {
      reply = await this.#connection.run('streams.readGroup', (client) => client.call('XREADGROUP', ...args));
    } else {
      reply = await this.#blocking((client) => client.call('XREADGROUP', ...args));
    }
    const out: StreamEntry[] = [];
    for (const [id, fields] of entriesOfReadReply(reply, stream)) {
      try {
        out.push(parseStreamEntry(stream, String(id), fields));
      } catch (error) {
        this.#onError(error, { events: 1 });
      }
    }
    return out;
  }

  /** Acknowledges entries of a group (`XACK`); returns how many were pending. */
  async ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    checkStream(stream);
    checkName(group, 'group');
    if (!Array.isArray(ids)) throw new InvalidArgumentError('ids', 'must be an array of entry ids');
    if (ids.length === 0) return 0;
    for (const id of ids) checkEntryId(id, 'ids');
    return this.#connection.run('streams.ack', (client) => client.xack(stream, group, ...ids));
  }

  /** Deletes a stream with its entries and groups (`UNLINK`), e.g. when a tenant goes; true when it existed. */
  async deleteStream(stream: string): Promise<boolean> {
    checkStream(stream);
    return (await this.#connection.run('streams.deleteStream', (client) => client.unlink(stream))) === 1;
  }

  /** Unsubscribes from the bus, writes what is buffered, and closes the connections it opened. */
  async close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.flush();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await this.#batcher.drained();
    for (const client of this.#blockingAll) client.disconnect();
    await this.#connection.close();
  }

  /** Runs a blocking command on a dedicated connection, so the command connection keeps writing. */
  async #blocking<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    this.#connection.assertOpen();
    const client = this.#blockingIdle.pop() ?? this.#openBlocking();
    try {
      return await fn(client);
    } catch (error) {
      throw mapRedisError(error, 'streams.readGroup');
    } finally {
      if (!this.#connection.closed) this.#blockingIdle.push(client);
    }
  }

  #openBlocking(): Redis {
    const client = this.#connection.openExtra('block');
    this.#blockingAll.add(client);
    return client;
  }
}

function checkStream(stream: unknown): asserts stream is string {
  if (typeof stream !== 'string' || stream === '') throw new InvalidArgumentError('stream', 'must be a non-empty string');
}

function checkName(value: unknown, option: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(option, 'must be a non-empty string');
}
