import type { RuntimeEventDataMap } from '../events/runtime-event-data.js';
import type { RuntimeEventType } from '../events/runtime-event-type.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import type { EventBus } from '../ports/event-bus.js';

/**
 * Publishes one job's events in the order they are emitted without making the job wait for
 * each publish: emits queue behind each other, and `flush()` waits for all of them (the kernel
 * flushes before it reports the job's end). A failed publish is reported, never thrown into
 * the job.
 */
export class EventEmitterChain {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly base: { jobId: string; scopeId: string; sessionId?: string | undefined; traceId?: string | undefined },
    private readonly onError: (error: unknown) => void,
  ) {}

  emit<K extends RuntimeEventType>(type: K, data: RuntimeEventDataMap[K]): void {
    const event = { ...this.base, type, data } as unknown as RuntimeEventInput<K>;
    this.pending++;
    this.chain = this.chain.then(
      () =>
        this.bus.publish(event).then(
          () => {
            this.pending--;
          },
          (error: unknown) => {
            this.pending--;
            this.onError(error);
          },
        ),
    );
  }

  /** Resolves once every event emitted so far is published. */
  flush(): Promise<void> {
    return this.chain;
  }

  get inFlight(): number {
    return this.pending;
  }
}
