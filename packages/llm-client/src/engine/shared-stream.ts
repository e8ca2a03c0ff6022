import { AbortError } from '../errors/engine-errors.js';

/**
 * One source stream read once and fanned out to any number of subscribers. Every event is
 * recorded, so a subscriber that arrives late first gets the events so far, then the live
 * ones. Reading is driven by demand: the fastest subscriber pulls the source. When every
 * subscriber has left before the end, the source is closed (`return()`) and `onEnd` reports
 * an `AbortError`.
 */
export class SharedStream<E> {
  private readonly events: E[] = [];
  private iterator: AsyncIterator<E> | undefined;
  private pulling: Promise<void> | undefined;
  private ended = false;
  private failed = false;
  private failure: unknown;
  private subscribers = 0;

  constructor(
    private readonly source: AsyncIterable<E>,
    private readonly onEnd: (events: readonly E[], error?: unknown) => void,
  ) {}

  get done(): boolean {
    return this.ended;
  }

  /** A reader from the first event. `onLeave` runs if it stops (abort or `return()`) before the end. */
  subscribe(options: { signal?: AbortSignal | undefined; onLeave?: () => void } = {}): AsyncIterableIterator<E> {
    this.subscribers++;
    return new Subscriber(this, options.signal, options.onLeave);
  }

  /** @internal */
  eventAt(index: number): { has: true; value: E } | { has: false } {
    return index < this.events.length ? { has: true, value: this.events[index] as E } : { has: false };
  }

  /** @internal */
  get length(): number {
    return this.events.length;
  }

  /** @internal */
  get outcome(): { ended: boolean; failed: boolean; failure: unknown } {
    return { ended: this.ended, failed: this.failed, failure: this.failure };
  }

  /** @internal Reads one more event from the source (shared by every subscriber waiting). */
  pull(): Promise<void> {
    if (this.pulling !== undefined) return this.pulling;
    if (this.ended) return Promise.resolve();
    let next: Promise<IteratorResult<E>>;
    try {
      this.iterator ??= this.source[Symbol.asyncIterator]();
      next = this.iterator.next();
    } catch (error) {
      next = Promise.reject(error);
    }
    this.pulling = next.then(
      (r) => {
        this.pulling = undefined;
        if (this.ended) return;
        if (r.done === true) this.finish(undefined, false);
        else this.events.push(r.value);
      },
      (error: unknown) => {
        this.pulling = undefined;
        this.finish(error, true);
      },
    );
    return this.pulling;
  }

  /** @internal A subscriber stopped reading. */
  leave(): void {
    this.subscribers--;
    if (this.subscribers > 0 || this.ended) return;
    const error = new AbortError(undefined, 'Every reader of the stream left before its end');
    this.finish(error, true);
    try {
      void this.iterator?.return?.()?.then(undefined, () => undefined);
    } catch {
      // The source could not be closed; it is dropped anyway.
    }
  }

  private finish(error: unknown, failed: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.failed = failed;
    this.failure = error;
    this.onEnd(this.events, failed ? error : undefined);
  }
}

class Subscriber<E> implements AsyncIterableIterator<E> {
  private index = 0;
  private closed = false;
  private rejectWait: ((error: unknown) => void) | undefined;

  constructor(
    private readonly shared: SharedStream<E>,
    private readonly signal: AbortSignal | undefined,
    private readonly onLeave: (() => void) | undefined,
  ) {
    signal?.addEventListener('abort', this.onAbort);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<E> {
    return this;
  }

  async next(): Promise<IteratorResult<E>> {
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      if (this.signal?.aborted) {
        this.leave();
        throw new AbortError(this.signal.reason);
      }
      const e = this.shared.eventAt(this.index);
      if (e.has) {
        this.index++;
        return { done: false, value: e.value };
      }
      const outcome = this.shared.outcome;
      if (outcome.ended) {
        this.close();
        if (outcome.failed) throw outcome.failure;
        return { done: true, value: undefined };
      }
      await this.wait();
    }
  }

  async return(): Promise<IteratorResult<E>> {
    if (!this.closed) this.leave();
    return { done: true, value: undefined };
  }

  private wait(): Promise<void> {
    const pull = this.shared.pull();
    if (this.signal === undefined) return pull;
    return new Promise<void>((resolve, reject) => {
      this.rejectWait = reject;
      pull.then(() => {
        this.rejectWait = undefined;
        resolve();
      });
    });
  }

  private readonly onAbort = (): void => {
    const reject = this.rejectWait;
    if (reject === undefined) return;
    this.rejectWait = undefined;
    this.leave();
    reject(new AbortError(this.signal?.reason));
  };

  private leave(): void {
    if (this.closed) return;
    const ended = this.shared.outcome.ended;
    this.close();
    if (!ended) {
      this.onLeave?.();
      this.shared.leave();
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}
