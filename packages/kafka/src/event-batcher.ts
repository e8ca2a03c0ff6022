import type { EventGap, RuntimeEvent } from '@baton/agent-runtime';

export interface EventBatcherOptions {
  /** Writes one batch; resolves when written, rejects when lost (the batcher counts it as failed). */
  readonly write: (batch: readonly RuntimeEvent[]) => Promise<void>;
  readonly batchSize: number;
  readonly maxInFlightBatches: number;
  /** Events held while writes are at their bound; past it the oldest are dropped. */
  readonly maxBuffered: number;
  /** How long a batch that is not full waits for more events (0: the end of the current tick). */
  readonly lingerMs: number;
  readonly onGap: (gap: EventGap) => void;
}

export interface EventBatcherStats {
  readonly written: number;
  readonly failed: number;
  readonly dropped: number;
  readonly buffered: number;
  readonly inFlightBatches: number;
  /** Messages in batches being written now (at most `batchSize × maxInFlightBatches`). */
  readonly inFlightMessages: number;
}

/**
 * Groups events into batches of at most `batchSize`, with at most `maxInFlightBatches` batches
 * being written at once, and never two batches holding events of the same job: a job's later
 * events wait until its batch in flight is written (or given up), so a retried batch cannot be
 * overtaken and each job's order is kept. While writes are at their bound, events wait in a
 * buffer of at most `maxBuffered`; past that the oldest are dropped and `onGap` says which.
 * `offer` never blocks the publisher.
 */
export class EventBatcher {
  readonly #o: EventBatcherOptions;
  #buffer: RuntimeEvent[] = [];
  /** Jobs with events in a batch being written, and how many such batches. */
  readonly #busy = new Map<string, number>();
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
    this.#o = options;
  }

  get stats(): EventBatcherStats {
    return { written: this.#written, failed: this.#failed, dropped: this.#dropped, buffered: this.#buffer.length, inFlightBatches: this.#inFlight, inFlightMessages: this.#inFlightMessages };
  }

  get offered(): number {
    return this.#offered;
  }

  offer(event: RuntimeEvent): void {
    this.#offered++;
    if (this.#buffer.length >= this.#o.maxBuffered) this.#drop(this.#buffer.shift()!);
    this.#buffer.push(event);
    if (this.#buffer.length >= this.#o.batchSize) this.#pump();
    else this.#schedule();
  }

  /** Resolves once the first `target` events offered are written, failed or dropped (writing what waits for the linger). */
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
      this.#o.onGap({ dropped: gap.dropped, first: { jobId: gap.first.jobId, seq: gap.first.seq }, last: { jobId: gap.last.jobId, seq: gap.last.seq } });
      this.#settle();
    });
  }

  #schedule(): void {
    if (this.#o.lingerMs > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, this.#o.lingerMs);
      return;
    }
    if (this.#immediate) return;
    this.#immediate = true;
    // After the current burst of synchronous publishes: they go out together.
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
    while (this.#inFlight < this.#o.maxInFlightBatches && this.#buffer.length > 0) {
      const batch = this.#take();
      if (batch.length === 0) return; // every buffered event belongs to a job in flight
      this.#inFlight++;
      this.#inFlightMessages += batch.length;
      for (const e of batch) this.#busy.set(e.jobId, (this.#busy.get(e.jobId) ?? 0) + 1);
      void this.#o.write(batch).then(
        () => {
          this.#written += batch.length;
        },
        () => {
          this.#failed += batch.length;
        },
      ).finally(() => {
        this.#inFlight--;
        this.#inFlightMessages -= batch.length;
        for (const e of batch) {
          const n = this.#busy.get(e.jobId)! - 1;
          if (n === 0) this.#busy.delete(e.jobId);
          else this.#busy.set(e.jobId, n);
        }
        this.#pump();
        this.#settle();
      });
    }
  }

  /** Up to `batchSize` buffered events, oldest first, skipping jobs with a batch in flight. */
  #take(): RuntimeEvent[] {
    const { batchSize } = this.#o;
    if (this.#busy.size === 0 && this.#buffer.length <= batchSize) {
      const all = this.#buffer;
      this.#buffer = [];
      return all;
    }
    const batch: RuntimeEvent[] = [];
    const rest: RuntimeEvent[] = [];
    for (const event of this.#buffer) {
      if (batch.length < batchSize && !this.#busy.has(event.jobId)) batch.push(event);
      else rest.push(event);
    }
    this.#buffer = rest;
    return batch;
  }

  #settle(): void {
    if (this.#waiters.length === 0) return;
    const done = this.#done();
    const waiting = this.#waiters;
    this.#waiters = waiting.filter((w) => w.target > done);
    for (const w of waiting) if (w.target <= done) w.resolve();
  }
}
