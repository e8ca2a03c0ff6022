import type { AgentResult, AgentStream, AgentStreamEvent } from './types.js';

type Waiter = { resolve: (r: IteratorResult<AgentStreamEvent>) => void; reject: (e: unknown) => void };

/**
 * The `AgentStream` of one run: the run pushes events, one consumer iterates them. Events are
 * buffered until read (a consumer that only awaits `result` loses nothing); a consumer that
 * stops iterating early detaches without cancelling the run (use the run's signal for that).
 * When the run fails, iteration ends by throwing the run's error, after the buffered events.
 */
export class AgentEventStream implements AgentStream {
  readonly result: Promise<AgentResult>;
  private buffer: AgentStreamEvent[] = [];
  private head = 0;
  private waiter: Waiter | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private detached = false;
  private claimed = false;

  constructor(run: (push: (event: AgentStreamEvent) => void) => Promise<AgentResult>) {
    this.result = run((event) => this.push(event)).then(
      (result) => {
        this.close(undefined);
        return result;
      },
      (error: unknown) => {
        this.close({ error });
        throw error;
      },
    );
    // Consumers that only iterate must not see an unhandled rejection.
    this.result.catch(() => undefined);
  }

  private push(event: AgentStreamEvent): void {
    if (this.ended || this.detached) return;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.resolve({ value: event, done: false });
    } else {
      this.buffer.push(event);
    }
  }

  private close(failure: { error: unknown } | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = failure;
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    if (failure) {
      this.failure = undefined;
      waiter.reject(failure.error);
    } else {
      waiter.resolve({ value: undefined, done: true });
    }
  }

  private next(): Promise<IteratorResult<AgentStreamEvent>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head]!;
      this.head++;
      if (this.head === this.buffer.length) {
        this.buffer = [];
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended || this.detached) {
      const failure = this.failure;
      if (failure && !this.detached) {
        this.failure = undefined;
        return Promise.reject(failure.error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private detach(): Promise<IteratorResult<AgentStreamEvent>> {
    this.detached = true;
    this.buffer = [];
    this.head = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<AgentStreamEvent> {
    if (this.claimed) throw new TypeError('An AgentStream can be iterated once');
    this.claimed = true;
    return { next: () => this.next(), return: () => this.detach() };
  }
}
