import type { RuntimeEventDataMap } from '../events/runtime-event-data.js';
import type { RuntimeEventType } from '../events/runtime-event-type.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import type { EventBus } from '../ports/event-bus.js';

/**
 * Publishes one job's events in the order they are emitted without making the job wait for
 * each publish: emits go into a queue that one drain loop publishes in order, and `flush()`
 * waits until the queue is empty (the kernel flushes before it reports the job's end). A
 * failed publish is reported, never thrown into the job.
 */
export class EventEmitterChain {
  private readonly queue: RuntimeEventInput[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly base: { jobId: string; scopeId: string; sessionId?: string | undefined; traceId?: string | undefined },
    private readonly onError: (error: unknown) => void,
  ) {}

  emit<K extends RuntimeEventType>(type: K, data: RuntimeEventDataMap[K]): void {
    const { jobId, scopeId, sessionId, traceId } = this.base;
    this.queue.push({ type, jobId, scopeId, sessionId, traceId, data } as unknown as RuntimeEventInput);
    this.draining ??= this.drain();
  }

  /** Resolves once every event emitted so far is published. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  get inFlight(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    // Let the emitting code run on until it awaits, so bursts are published together.
    await undefined;
    while (this.queue.length > 0) {
      // Everything emitted so far goes in one batch (one transaction on a durable bus).
      const batch = this.queue.splice(0);
      try {
        if (batch.length === 1) await this.bus.publish(batch[0]!);
        else await this.bus.publishMany(batch);
      } catch (error) {
        this.onError(error);
      }
    }
    this.draining = undefined;
  }
}
