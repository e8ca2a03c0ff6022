import type { RuntimeEvent } from '@baton/agent-runtime';
import type { RedisConnection } from '../connection/redis-connection.js';
import { mapRedisError } from '../errors/map-redis-error.js';
import { EVENT_FIELD } from './stream-entries.js';

export interface StreamWriterOptions {
  readonly connection: RedisConnection;
  readonly streamOf: (event: RuntimeEvent) => string;
  readonly maxLen: number;
  readonly batchSize: number;
  readonly maxInFlightBatches: number;
  readonly onError: (error: unknown, info: { events: number }) => void;
}

/**
 * Batches events into pipelines of `XADD … MAXLEN ~ n`: events that arrive together go out in
 * one round trip, at most `batchSize` per pipeline and at most `maxInFlightBatches` pipelines at
 * once. `offer` returns a promise while both bounds are reached, so the event bus holds further
 * events in the subscriber's own bounded queue (its overflow policy applies there).
 */
export class StreamWriter {
  readonly #o: StreamWriterOptions;
  #buffer: RuntimeEvent[] = [];
  #inFlight = 0;
  #scheduled = false;
  #slotWaiters: Array<() => void> = [];
  #idleWaiters: Array<() => void> = [];
  #written = 0;
  #failed = 0;

  constructor(options: StreamWriterOptions) {
    this.#o = options;
  }

  /** Events written and events whose write failed, since the start. */
  get stats(): { written: number; failed: number; buffered: number; inFlightBatches: number } {
    return { written: this.#written, failed: this.#failed, buffered: this.#buffer.length, inFlightBatches: this.#inFlight };
  }

  get idle(): boolean {
    return this.#buffer.length === 0 && this.#inFlight === 0;
  }

  offer(event: RuntimeEvent): void | Promise<void> {
    this.#buffer.push(event);
    if (this.#buffer.length >= this.#o.batchSize) this.#pump();
    else this.#schedule();
    if (this.#saturated()) return new Promise((resolve) => this.#slotWaiters.push(resolve));
  }

  /** Resolves once every event offered so far has been written (or reported as failed). */
  flush(): Promise<void> {
    this.#pump();
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #saturated(): boolean {
    return this.#inFlight >= this.#o.maxInFlightBatches && this.#buffer.length >= this.#o.batchSize;
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
    if (!this.#saturated() && this.#slotWaiters.length > 0) {
      const waiters = this.#slotWaiters;
      this.#slotWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.idle && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
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
