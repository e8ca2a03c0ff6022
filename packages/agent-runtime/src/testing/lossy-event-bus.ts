import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import type { RuntimeEvent, RuntimeEventInput } from '../events/runtime-event.js';
import type { RuntimeEventType } from '../events/runtime-event-type.js';
import { EventBus, type EventHandler, type EventUnsubscribe, type ReplayOptions, type SubscribeOptions } from '../ports/event-bus.js';

/**
 * An event bus as a process sees the events of jobs that other processes run: every event is
 * stored (published into `history`), but reaches this bus's subscribers only when the test says
 * so with `deliver` (a notification can be lost on the way); `ready()` resolves when
 * `listening` does (a bus that listens late), and `resync()` calls the subscribers'
 * `onResync` (a connection that came back). For testing what reads a job's events across
 * processes: streams, transports.
 */
export class LossyEventBus extends EventBus {
  readonly history = new InMemoryEventBus();
  /** What `ready()` returns; resolved by default. */
  listening: Promise<void> = Promise.resolve();
  readonly #subscribers = new Set<{ handler: EventHandler; options: SubscribeOptions | undefined }>();

  constructor(options: { listening?: Promise<void> } = {}) {
    super();
    if (options.listening) this.listening = options.listening;
  }

  /** Stores the event in the history; delivers it to no subscriber (see `deliver`). */
  override publish<K extends RuntimeEventType>(event: RuntimeEventInput<K>): Promise<RuntimeEvent<K>> {
    return this.history.publish(event);
  }

  override subscribe(handler: EventHandler, options?: SubscribeOptions): EventUnsubscribe {
    const subscriber = { handler, options };
    this.#subscribers.add(subscriber);
    return () => void this.#subscribers.delete(subscriber);
  }

  override replay(options: ReplayOptions): Promise<readonly RuntimeEvent[]> {
    return this.history.replay(options);
  }

  override ready(): Promise<void> {
    return this.listening;
  }

  /** Hands a stored event to every subscriber (filters not applied: each test delivers what its subscribers follow). */
  deliver(event: RuntimeEvent): void {
    for (const s of this.#subscribers) void s.handler(event);
  }

  /** Tells every subscriber that events may have been missed. */
  resync(): void {
    for (const s of this.#subscribers) s.options?.onResync?.();
  }
}
