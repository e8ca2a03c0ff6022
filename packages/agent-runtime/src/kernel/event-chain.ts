import type { RuntimeEventDataMap } from '../events/runtime-event-data.js';
import type { RuntimeEventType } from '../events/runtime-event-type.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import type { EventBus } from '../ports/event-bus.js';

export interface EventEmitterChainOptions {
  /**
   * How long an emitted event may wait for the job's next journal write to carry it (default 0:
   * published as soon as the emitting code awaits). The kernel sets it when the journal shares
   * transactions with the bus, so that a step's events are stored with the step in one write.
   */
  lingerMs?: number | undefined;
}

/**
 * Publishes one job's events in the order they are emitted without making the job wait for
 * each publish: emits go into a queue that is published in order, in batches (one transaction
 * each on a durable bus), and `flush()` waits until the queue is empty (the kernel flushes
 * before it reports the job's end). A journal write can carry the queued events itself
 * (`writeWith`), in their place in the order. A failed publish is reported, never thrown into
 * the job.
 */
export class EventEmitterChain {
  private queue: RuntimeEventInput[] = [];
  /** The last publish or write in order; the next one starts after it. */
  private tail: Promise<void> = Promise.resolve();
  private scheduled = false;
  /** Publishes and writes started and not finished: none means the next one may start at once. */
  private outstanding = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly lingerMs: number;

  constructor(
    readonly bus: EventBus,
    private readonly base: { jobId: string; scopeId: string; sessionId?: string | undefined; traceId?: string | undefined },
    private readonly onError: (error: unknown) => void,
    options: EventEmitterChainOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 0;
  }

  /** Whether journal writes should carry the queued events (see `EventEmitterChainOptions.lingerMs`). */
  get carriesEvents(): boolean {
    return this.lingerMs > 0;
  }

  /** The full input of an event of this job. */
  build<K extends RuntimeEventType>(type: K, data: RuntimeEventDataMap[K]): RuntimeEventInput {
    const { jobId, scopeId, sessionId, traceId } = this.base;
    return { type, jobId, scopeId, sessionId, traceId, data } as unknown as RuntimeEventInput;
  }

  emit<K extends RuntimeEventType>(type: K, data: RuntimeEventDataMap[K]): void {
    this.queue.push(this.build(type, data));
    this.schedule();
  }

  /**
   * Runs `write` after every publish and write started before it, handing it the events queued
   * when it was called followed by `extra()`: the write stores them (a journal append with its
   * events); events emitted meanwhile go after them. When it fails, the events it took go back
   * to the front of the queue to be published on their own.
   */
  writeWith<T>(extra: () => readonly RuntimeEventInput[], write: (events: readonly RuntimeEventInput[]) => Promise<T>): Promise<T> {
    // Taken now: the order of writes and publishes on the chain is the order of the events.
    const taken = this.queue;
    this.queue = [];
    const start = async (): Promise<T> => {
      try {
        return await write([...taken, ...extra()]);
      } catch (error) {
        if (taken.length > 0) {
          this.queue.unshift(...taken);
          this.schedule();
        }
        throw error;
      } finally {
        this.outstanding--;
      }
    };
    const run = this.outstanding++ === 0 ? start() : this.tail.then(start);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Resolves once every event emitted so far is published. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.queue.length > 0) this.drain();
      const tail = this.tail;
      await tail;
      if (this.queue.length === 0 && this.tail === tail) return;
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.lingerMs > 0) {
      this.timer = setTimeout(() => this.drain(), this.lingerMs);
      this.timer.unref?.();
    } else {
      // Let the emitting code run on until it awaits, so bursts are published together.
      queueMicrotask(() => this.drain());
    }
  }

  /** Queues a publish of everything emitted so far, in order after the last publish or write. */
  private drain(): void {
    this.scheduled = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    // Nothing in flight: publish now, without a link in the chain (most steps' events).
    this.tail = this.outstanding++ === 0 ? this.publish(batch) : this.tail.then(() => this.publish(batch));
  }

  /** Publishes a batch; never rejects (a failure is reported). */
  private async publish(batch: RuntimeEventInput[]): Promise<void> {
    try {
      if (batch.length === 1) await this.bus.publish(batch[0]!);
      else await this.bus.publishMany(batch);
    } catch (error) {
      this.onError(error);
    } finally {
      this.outstanding--;
    }
  }
}
