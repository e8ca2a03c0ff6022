import { InvalidArgumentError } from '@baton/llm-client';
import type { EventGap } from '../ports/event-bus.js';
import type { RuntimeEvent } from './runtime-event.js';

/** What a write of one batch reports when some of its events were not written. */
export interface EventBatchWriteResult {
  /** Events of the batch that were not written (0 to the batch's length). */
  readonly failed: number;
}

/**
 * Writes one batch. Resolves when it is done: with nothing when every event was written, with
 * `{ failed }` when some were not (a pipeline with per-command errors); rejects when the whole
 * batch is lost. Anything else it resolves with counts as all written. Retries belong inside it:
 * while it runs, the batch's jobs wait.
 */
export type EventBatchWrite = (batch: readonly RuntimeEvent[]) => Promise<EventBatchWriteResult | void>;

export interface EventBatcherOptions {
  readonly write: EventBatchWrite;
  /** Events per batch, at most; default 500. */
  readonly batchSize?: number | undefined;
  /** Batches being written at once, at most; default 4. */
  readonly maxInFlightBatches?: number | undefined;
  /** Events held while writes are at their bound; past it the oldest are dropped (`onGap`). Default 10,000. */
  readonly maxBuffered?: number | undefined;
  /** How long a batch that is not full waits for more events; default 0 (the end of the current tick). */
  readonly lingerMs?: number | undefined;
  /** Events dropped from a full buffer, once per burst of drops; a throw is ignored. Default: ignored. */
  readonly onGap?: ((gap: EventGap) => void) | undefined;
}

export interface EventBatcherStats {
  /** Events the writes reported written. */
  readonly written: number;
  /** Events of batches that were lost, or reported failed by their write. */
  readonly failed: number;
  /** Events dropped from a full buffer. */
  readonly dropped: number;
  /** Events waiting for a batch now. */
  readonly buffered: number;
  /** Batches being written now (at most `maxInFlightBatches`). */
  readonly inFlightBatches: number;
  /** Events in batches being written now (at most `batchSize × maxInFlightBatches`). */
  readonly inFlightMessages: number;
}

/**
 * Groups events into batches for an event adapter's writes: a building block for adapters that
 * fan an `EventBus` out to a log or a stream (Kafka, Redis Streams), so that `offer` never blocks
 * the publisher and the adapter only says how one batch is written.
 *
 * What holds:
 * - a batch has at most `batchSize` events, the oldest of the jobs not in flight, and at most
 *   `maxInFlightBatches` batches are being written at once;
 * - no two batches being written hold events of the same job: a job's later events wait until
 *   its batch is written, reported failed or given up, so a slow or retried batch is never
 *   overtaken and each job's events are written in the order offered;
 * - a batch that is not full waits `lingerMs` for more events (0: the events offered in the
 *   current tick go out together, after it); a full one goes at once;
 * - while writes are at their bound, at most `maxBuffered` events wait; past that the oldest are
 *   dropped and `onGap` reports them once per burst of drops;
 * - every event offered ends up counted once in `stats` as written, failed or dropped, and
 *   `drained(n)` resolves once `n` have (`drained()`: every event offered so far).
 *
 * @example
 * const batcher = new EventBatcher({ write: (batch) => sink.send(batch), batchSize: 100 });
 * const unsubscribe = bus.subscribe((event) => batcher.offer(event));
 * // …
 * unsubscribe();
 * await batcher.drained();
 */
export class EventBatcher {
  readonly #write: EventBatchWrite;
  readonly #batchSize: number;
  readonly #maxInFlightBatches: number;
  readonly #maxBuffered: number;
  readonly #lingerMs: number;
  readonly #onGap: ((gap: EventGap) => void) | undefined;
  /** Events waiting, oldest first from `#head`; a slot taken out of order is left empty (compacted now and then). */
  #buffer: Array<RuntimeEvent | undefined> = [];
  #head = 0;
  /** Events in the buffer. */
  #count = 0;
  /** Jobs with events in a batch being written, and how many such batches. */
  readonly #busy = new Map<string, number>();
  /** Every buffered event belongs to a job with a batch in flight: nothing to take until a batch ends or another job's event comes. */
  #blocked = false;
  #inFlight = 0;
  #inFlightMessages = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate = false;
  #gap: { dropped: number; first: RuntimeEvent; last: RuntimeEvent } | undefined;
  #waiters: Array<{ target: number; resolve: () => void }> = [];
  #offered = 0;
  #written = 0;
  #failed = 0;
  #dropped = 0;

  constructor(options: EventBatcherOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an options object');
    if (typeof options.write !== 'function') throw new InvalidArgumentError('write', 'must be a function');
    if (options.onGap !== undefined && typeof options.onGap !== 'function') throw new InvalidArgumentError('onGap', 'must be a function');
    this.#write = options.write;
    this.#batchSize = integer(options.batchSize, 'batchSize', 500, 1);
    this.#maxInFlightBatches = integer(options.maxInFlightBatches, 'maxInFlightBatches', 4, 1);
    this.#maxBuffered = integer(options.maxBuffered, 'maxBuffered', 10_000, 1);
    this.#lingerMs = integer(options.lingerMs, 'lingerMs', 0, 0);
    this.#onGap = options.onGap;
  }

  get stats(): EventBatcherStats {
    return {
      written: this.#written,
      failed: this.#failed,
      dropped: this.#dropped,
      buffered: this.#count,
      inFlightBatches: this.#inFlight,
      inFlightMessages: this.#inFlightMessages,
    };
  }

  /** Events offered so far. */
  get offered(): number {
    return this.#offered;
  }

  /** Takes an event to write; never blocks. A full buffer drops its oldest event to make room. */
  offer(event: RuntimeEvent): void {
    this.#offered++;
    if (this.#count >= this.#maxBuffered) this.#drop(this.#shiftOldest());
    this.#buffer.push(event);
    this.#count++;
    if (this.#blocked && !this.#busy.has(event.jobId)) this.#blocked = false;
    if (this.#count >= this.#batchSize) this.#pump();
    else this.#schedule();
  }

  /**
   * Resolves once `target` events (default: every one offered so far) are written, failed or
   * dropped. What waits for the linger goes out at once.
   */
  drained(target = this.#offered): Promise<void> {
    this.#pump();
    if (this.#done() >= target) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ target, resolve }));
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
      try {
        this.#onGap?.({ dropped: gap.dropped, first: { jobId: gap.first.jobId, seq: gap.first.seq }, last: { jobId: gap.last.jobId, seq: gap.last.seq } });
      } catch {
        // Nowhere left to report to; the drops are counted in stats.
      }
      this.#settle();
    });
  }

  #schedule(): void {
    if (this.#lingerMs > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, this.#lingerMs);
      return;
    }
    if (this.#immediate) return;
    this.#immediate = true;
    // After the current burst of synchronous offers: they go out together.
    setImmediate(() => {
      this.#immediate = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    // While blocked, offers do not scan the buffer again (that made a long buffer quadratic).
    while (!this.#blocked && this.#inFlight < this.#maxInFlightBatches && this.#count > 0) {
      const batch = this.#take();
      if (batch.length === 0) {
        this.#blocked = true; // every buffered event belongs to a job in flight
        return;
      }
      this.#start(batch);
    }
  }

  #start(batch: RuntimeEvent[]): void {
    this.#inFlight++;
    this.#inFlightMessages += batch.length;
    for (const e of batch) this.#busy.set(e.jobId, (this.#busy.get(e.jobId) ?? 0) + 1);
    let writing: Promise<EventBatchWriteResult | void>;
    try {
      writing = this.#write(batch);
    } catch (error) {
      writing = Promise.reject(error);
    }
    void Promise.resolve(writing)
      .then(
        (result) => {
          const failed = failedOf(result, batch.length);
          this.#written += batch.length - failed;
          this.#failed += failed;
        },
        () => {
          this.#failed += batch.length;
        },
      )
      .finally(() => {
        this.#inFlight--;
        this.#inFlightMessages -= batch.length;
        for (const e of batch) {
          const n = this.#busy.get(e.jobId)! - 1;
          if (n === 0) this.#busy.delete(e.jobId);
          else this.#busy.set(e.jobId, n);
        }
        this.#blocked = false; // its jobs' events may go now
        this.#pump();
        this.#settle();
      });
  }

  /** Up to `batchSize` buffered events, oldest first, skipping jobs with a batch in flight. */
  #take(): RuntimeEvent[] {
    const buffer = this.#buffer;
    const batch: RuntimeEvent[] = [];
    for (let i = this.#head; i < buffer.length && batch.length < this.#batchSize; i++) {
      const event = buffer[i];
      if (event === undefined || this.#busy.has(event.jobId)) continue;
      batch.push(event);
      buffer[i] = undefined;
    }
    this.#count -= batch.length;
    this.#advance();
    return batch;
  }

  /** Removes and returns the oldest buffered event (the buffer is not empty). */
  #shiftOldest(): RuntimeEvent {
    this.#advance();
    const event = this.#buffer[this.#head]!;
    this.#buffer[this.#head++] = undefined;
    this.#count--;
    this.#advance();
    return event;
  }

  /** Moves `#head` past empty slots; drops the slots before it once they are most of the array. */
  #advance(): void {
    const buffer = this.#buffer;
    while (this.#head < buffer.length && buffer[this.#head] === undefined) this.#head++;
    if (this.#head === buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= buffer.length) {
      this.#buffer = buffer.slice(this.#head);
      this.#head = 0;
    }
  }


  #settle(): void {
    if (this.#waiters.length === 0) return;
    const done = this.#done();
    const waiting = this.#waiters;
    this.#waiters = waiting.filter((w) => w.target > done);
    for (const w of waiting) if (w.target <= done) w.resolve();
  }
}

/** The events a write reported failed: `failed`, capped at the batch's length; 0 when it resolved without one. */
function failedOf(result: unknown, size: number): number {
  if (typeof result !== 'object' || result === null) return 0;
  const { failed } = result as { failed?: unknown };
  return typeof failed === 'number' && failed > 0 ? Math.min(Math.ceil(failed), size) : 0;
}

function integer(value: unknown, name: string, fallback: number, min: 0 | 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new InvalidArgumentError(name, min === 1 ? 'must be a positive integer' : 'must be an integer ≥ 0');
  return value;
}
