import type { SubscriberOverflowError } from '../errors/store-errors.js';
import { streamEvents } from '../events/event-stream.js';
import type { RuntimeEvent, RuntimeEventInput } from '../events/runtime-event.js';
import type { RuntimeEventType } from '../events/runtime-event-type.js';

/** Which events a subscriber wants. Every field narrows; none = every event of every scope. */
export interface EventFilter {
  readonly eventTypes?: readonly RuntimeEventType[] | undefined;
  readonly jobId?: string | undefined;
  readonly scopeId?: string | undefined;
  readonly sessionId?: string | undefined;
}

export type EventHandler = (event: RuntimeEvent) => void | Promise<void>;
export type EventUnsubscribe = () => void;

/**
 * What a subscriber does when it falls more than `maxQueue` events behind:
 * - `drop-oldest`: the oldest queued events are dropped and `onGap` reports what was lost
 *   (the subscriber keeps receiving, with a hole it can fill by `replay`);
 * - `disconnect`: the subscriber is unsubscribed and `onDisconnect` gets a
 *   `SubscriberOverflowError` (it can resume from its last seq without a hole).
 */
export type SubscriberOverflowPolicy = 'drop-oldest' | 'disconnect';

/** Events a slow subscriber lost under `drop-oldest`. */
export interface EventGap {
  readonly dropped: number;
  readonly first: { readonly jobId: string; readonly seq: number };
  readonly last: { readonly jobId: string; readonly seq: number };
}

export interface SubscribeOptions extends EventFilter {
  /** Events queued for this subscriber before its overflow policy applies. */
  readonly maxQueue?: number | undefined;
  readonly overflow?: SubscriberOverflowPolicy | undefined;
  readonly onGap?: ((gap: EventGap) => void) | undefined;
  readonly onDisconnect?: ((error: SubscriberOverflowError) => void) | undefined;
  /** Called when the handler throws or rejects; the subscriber keeps receiving. */
  readonly onError?: ((error: unknown, event: RuntimeEvent) => void) | undefined;
  /**
   * Called when events of other processes may have been missed for a while (the bus lost its
   * connection to them and has it back): a subscriber that must not miss any reads them with
   * `replay`. `stream` does this by itself.
   */
  readonly onResync?: (() => void) | undefined;
}

export interface ReplayOptions {
  readonly jobId: string;
  readonly scopeId: string;
  /** First seq wanted (inclusive); default 1. After SSE `Last-Event-ID: n`, pass n + 1. */
  readonly fromSeq?: number | undefined;
  readonly limit?: number | undefined;
}

export interface StreamOptions extends EventFilter {
  /**
   * Replay the job's retained events from this seq (inclusive) before following live ones.
   * Needs `jobId` and `scopeId`: seqs are per job.
   */
  readonly fromSeq?: number | undefined;
  /** Ends the stream (without an error) when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Ends the stream after yielding the first event for which this returns true. */
  readonly until?: ((event: RuntimeEvent) => boolean) | undefined;
  /** Events buffered for a consumer that does not pull; default 10,000. */
  readonly maxBuffered?: number | undefined;
  /** Default `disconnect`: the iterator throws `SubscriberOverflowError`, and the consumer resumes with `fromSeq`. */
  readonly overflow?: SubscriberOverflowPolicy | undefined;
  readonly onGap?: ((gap: EventGap) => void) | undefined;
}

/**
 * Every state change of the runtime, as typed events with a per-job sequence number.
 * Transports and observers only subscribe. Publishing never waits for a subscriber, and a
 * subscriber that throws never breaks a publish.
 *
 * An abstract class so that methods added later can ship with a default implementation;
 * `stream` has one, built on `subscribe` and `replay`.
 */
export abstract class EventBus {
  /**
   * Assigns the job's next seq (monotonic per job, from 1; concurrent publishes of one job
   * get distinct seqs in the order the bus receives them) and the `id` and `at` when absent,
   * stores the event in the job's history and hands it to matching subscribers.
   */
  abstract publish<K extends RuntimeEventType>(event: RuntimeEventInput<K>): Promise<RuntimeEvent<K>>;

  /**
   * Publishes several events in order, as `publish` would one by one (the default does exactly
   * that). Durable buses override it to store a batch in one transaction; a publisher that
   * queues events (the kernel does, per job) hands over whatever accumulated while the previous
   * batch was being written.
   */
  async publishMany(events: readonly RuntimeEventInput[]): Promise<RuntimeEvent[]> {
    const out: RuntimeEvent[] = [];
    for (const event of events) out.push(await this.publish(event));
    return out;
  }

  /**
   * Whether `store` can write this bus's events in its own transactions (an outbox in the same
   * database). Stores ask before writing an `EventOutbox` themselves; the default is no.
   */
  sharesTransactionsWith(_store: object): boolean {
    return false;
  }

  /**
   * Calls `handler` for every matching event published from now on, in publish order. On a bus
   * that delivers across processes, events of other processes reach a new subscriber once
   * `ready()` resolves.
   */
  abstract subscribe(handler: EventHandler, options?: SubscribeOptions): EventUnsubscribe;

  /**
   * Resolves once events published by other processes reach this bus's subscribers (a bus
   * listening in the background, after its first `subscribe`). A reader that subscribes, awaits
   * this, then reads the job's history misses nothing in between. The default (a bus with no
   * other processes) resolves at once; a bus that cannot listen resolves too, and its
   * subscribers get only this process's events.
   */
  async ready(): Promise<void> {}

  /** The job's retained events in seq order from `fromSeq`. Another scope's job has none. */
  abstract replay(options: ReplayOptions): Promise<readonly RuntimeEvent[]>;

  /**
   * The matching events as an async iterable: with `fromSeq`, the job's retained events from
   * that seq, then live ones, with no gap and no duplicate between the two.
   */
  stream(options: StreamOptions = {}): AsyncIterable<RuntimeEvent> {
    return streamEvents(this, options);
  }
}

/**
 * Events to publish with a store write (`JournalStore.appendWithEvents`,
 * `JobStore.createWithEvents`, `JobStore.updateWithEvents`): one job's events, in order. A
 * store whose database holds the bus's events (`bus.sharesTransactionsWith(store)`) writes them
 * in the same transaction as the record, so that both are stored or neither; any other store
 * writes the record, then publishes them on the bus.
 */
export interface EventOutbox {
  readonly bus: EventBus;
  readonly events: readonly RuntimeEventInput[];
}

/** Publishes an outbox's events after the write (what stores do when the bus is elsewhere). */
export async function publishOutbox(outbox: EventOutbox | undefined): Promise<RuntimeEvent[]> {
  if (outbox === undefined || outbox.events.length === 0) return [];
  return outbox.bus.publishMany(outbox.events);
}
