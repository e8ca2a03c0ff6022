import type { EventGap, RuntimeEvent } from '@baton/agent-runtime';
import type { RedisConnection } from '../connection/redis-connection.js';
import { mapRedisError } from '../errors/map-redis-error.js';
import { EVENT_FIELD } from './stream-entries.js';

export interface StreamWriterOptions {
  readonly connection: RedisConnection;
  readonly streamOf: (event: RuntimeEvent) => string;
  readonly maxLen: number;
  readonly batchSize: number;
  readonly maxInFlightBatches: number;
  /** Events held while writes are at their bound; past it the oldest are dropped. */
  readonly maxBuffered: number;
  readonly onGap: (gap: EventGap) => void;
  readonly onError: (error: unknown, info: { events: number }) => void;
}

export interface StreamWriterStats {
  readonly written: number;
  readonly failed: number;
  readonly dropped: number;
  readonly buffered: number;
  readonly inFlightBatches: number;
}

/**
 * Batches events into pipelines of `XADD … MAXLEN ~ n`: events that arrive together go out in
 * one round trip, at most `batchSize` per pipeline and at most `maxInFlightBatches` pipelines at
 * once. While both bounds are reached, events wait in a buffer of at most `maxBuffered`; past
 * that the oldest are dropped and `onGap` says which. `offer` never blocks the publisher.
 */
export class StreamWriter {
  readonly #o: StreamWriterOptions;
  #buffer: RuntimeEvent[] = [];
  #inFlight = 0;
  #scheduled = false;
  #gap: { dropped: number; first: RuntimeEvent; last: RuntimeEvent } | undefined;
  #drainWaiters: Array<{ target: number; resolve: () => void }> = [];
  #offered = 0;
  #written = 0;
  #failed = 0;
  #dropped = 0;

  constructor(options: StreamWriterOptions) {
    this.#o = options;
  }

  get stats(): StreamWriterStats {
    return { written: this.#written, failed: this.#failed, dropped: this.#dropped, buffered: this.#buffer.length, inFlightBatches: this.#inFlight };
  }

  /** Events offered so far. */
  get offered(): number {
    return this.#offered;
  }

  offer(event: RuntimeEvent): void {
    this.#offered++;
    if (this.#buffer.length >= this.#o.maxBuffered) this.#drop(this.#buffer.shift() as RuntimeEvent);
    this.#buffer.push(event);
    if (this.#buffer.length >= this.#o.batchSize) this.#pump();
    else this.#schedule();
  }

  /** Resolves once the first `target` events offered are written, reported as failed, or dropped. */
  drained(target = this.#offered): Promise<void> {
    this.#pump();
    if (this.#done() >= target) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push({ target, resolve }));
  }

  #done(): number {
    return this.#written + this.#failed + this.#dropped;
  }

  #drop(event: RuntimeEvent): void {
    this.#dropped++;
    if (this.#gap) {
      this.#gap.dropped++;
      this.#gap.last = event;
      return;
    }
    this.#gap = { dropped: 1, first: event, last: event };
    // Reported once per burst of drops, after it.
    queueMicrotask(() => {
      const gap = this.#gap;
      this.#gap = undefined;
      if (!gap) return;
      this.#o.onGap({ dropped: gap.dropped, first: { jobId: gap.first.jobId, seq: gap.first.seq }, last: { jobId: gap.last.jobId, seq: gap.last.seq } });
      this.#settle();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // After the current burst of synchronous publishes: they go out together.
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#o.maxInFlightBatches && this.#buffer.length > 0) {
      const batch = this.#buffer.length <= this.#o.batchSize ? this.#buffer : this.#buffer.slice(0, this.#o.batchSize);
      this.#buffer = batch === this.#buffer ? [] : this.#buffer.slice(this.#o.batchSize);
      this.#inFlight++;
      void this.#write(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
        this.#settle();
      });
    }
  }

  #settle(): void {
    if (this.#drainWaiters.length === 0) return;
    const done = this.#done();
    const waiting = this.#drainWaiters;
    this.#drainWaiters = waiting.filter((w) => w.target > done);
    for (const w of waiting) if (w.target <= done) w.resolve();
  }

  async #write(batch: RuntimeEvent[]): Promise<void> {
    const { connection, streamOf, onError } = this.#o;
    const maxLen = String(this.#o.maxLen);
    try {
      const results = await connection.run('streams.xadd', (client) => {
        const pipeline = client.pipeline();
        for (const event of batch) pipeline.xadd(streamOf(event), 'MAXLEN', '~', maxLen, '*', EVENT_FIELD, JSON.stringify(event));
        return pipeline.exec();
      });
      let failed = 0;
      let first: unknown;
      for (const [error] of results ?? []) {
        if (error) {
          failed++;
          first ??= error;
        }
      }
      this.#written += batch.length - failed;
      if (failed > 0) {
        this.#failed += failed;
        onError(mapRedisError(first, 'streams.xadd'), { events: failed });
      }
    } catch (error) {
      this.#failed += batch.length;
      onError(error, { events: batch.length });
    }
  }
}
