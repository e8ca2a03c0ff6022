import { InvalidArgumentError } from '@baton/llm-client';
import {
  RUNTIME_EVENT_TYPES,
  SubscriberOverflowError,
  type EventGap,
  type EventHandler,
  type EventUnsubscribe,
  type RuntimeEvent,
  type RuntimeEventType,
  type SubscribeOptions,
  type SubscriberOverflowPolicy,
} from '@baton/agent-runtime';

interface Subscriber {
  readonly handler: EventHandler;
  readonly options: SubscribeOptions;
  readonly types: ReadonlySet<RuntimeEventType> | undefined;
  readonly maxQueue: number;
  readonly overflow: SubscriberOverflowPolicy;
  readonly queue: RuntimeEvent[];
  gap: { dropped: number; first: RuntimeEvent; last: RuntimeEvent } | undefined;
  scheduled: boolean;
  running: boolean;
  closed: boolean;
}

const TYPES: ReadonlySet<string> = new Set(RUNTIME_EVENT_TYPES);

export interface LocalSubscribersOptions {
  readonly maxQueue: number;
  readonly overflow: SubscriberOverflowPolicy;
  readonly onHandlerError?: ((error: unknown, event: RuntimeEvent) => void) | undefined;
}

/**
 * The subscribers of one bus in this process. `offer` only queues an event for each matching
 * subscriber and schedules its delivery on a microtask, so publishing never waits for a handler.
 * Each subscriber gets its events one at a time, in the order offered; past `maxQueue` queued
 * events its overflow policy applies (`drop-oldest`: drop and report the gap; `disconnect`:
 * unsubscribe with `SubscriberOverflowError`). A handler that throws is reported, not fatal.
 */
export class LocalSubscribers {
  private readonly byJob = new Map<string, Set<Subscriber>>();
  private readonly unkeyed = new Set<Subscriber>();

  constructor(private readonly defaults: LocalSubscribersOptions) {}

  /**
   * Whether a subscriber here may want events of this job, by the filters known before an event
   * is read (job and scope; type and session are checked per event by `offer`).
   */
  wants(scopeId: string, jobId: string): boolean {
    const keyed = this.byJob.get(jobId);
    if (keyed) for (const sub of keyed) if (sub.options.scopeId === undefined || sub.options.scopeId === scopeId) return true;
    for (const sub of this.unkeyed) if (sub.options.scopeId === undefined || sub.options.scopeId === scopeId) return true;
    return false;
  }

  add(handler: EventHandler, options: SubscribeOptions = {}): EventUnsubscribe {
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', 'must be a function');
    if (options.eventTypes?.some((t) => !TYPES.has(t))) throw new InvalidArgumentError('eventTypes', 'contains an unknown event type');
    const maxQueue = options.maxQueue ?? this.defaults.maxQueue;
    if (!Number.isInteger(maxQueue) || maxQueue < 1) throw new InvalidArgumentError('maxQueue', 'must be a positive integer');
    const overflow = options.overflow ?? this.defaults.overflow;
    if (overflow !== 'drop-oldest' && overflow !== 'disconnect') throw new InvalidArgumentError('overflow', "must be 'drop-oldest' or 'disconnect'");
    const sub: Subscriber = {
      handler,
      options,
      types: options.eventTypes ? new Set(options.eventTypes) : undefined,
      maxQueue,
      overflow,
      queue: [],
      gap: undefined,
      scheduled: false,
      running: false,
      closed: false,
    };
    if (options.jobId !== undefined) {
      let set = this.byJob.get(options.jobId);
      if (!set) this.byJob.set(options.jobId, (set = new Set()));
      set.add(sub);
    } else {
      this.unkeyed.add(sub);
    }
    return () => this.close(sub);
  }

  offer(event: RuntimeEvent): void {
    const keyed = this.byJob.get(event.jobId);
    if (keyed) for (const sub of keyed) this.offerTo(sub, event);
    for (const sub of this.unkeyed) this.offerTo(sub, event);
  }

  /** Tells every subscriber that events of other processes may have been missed (`onResync`). */
  resync(): void {
    const subs = [...this.unkeyed];
    for (const set of this.byJob.values()) subs.push(...set);
    for (const sub of subs) {
      const onResync = sub.options.onResync;
      if (onResync && !sub.closed) {
        try {
          onResync();
        } catch {
          // Its own failure.
        }
      }
    }
  }

  closeAll(): void {
    for (const set of [...this.byJob.values()]) for (const sub of set) this.close(sub);
    for (const sub of [...this.unkeyed]) this.close(sub);
  }

  private offerTo(sub: Subscriber, event: RuntimeEvent): void {
    const o = sub.options;
    if (o.scopeId !== undefined && o.scopeId !== event.scopeId) return;
    if (o.sessionId !== undefined && o.sessionId !== event.sessionId) return;
    if (sub.types !== undefined && !sub.types.has(event.type)) return;
    if (sub.queue.length >= sub.maxQueue) {
      if (sub.overflow === 'disconnect') {
        this.close(sub);
        const onDisconnect = o.onDisconnect;
        if (onDisconnect) queueMicrotask(() => this.safely(() => onDisconnect(new SubscriberOverflowError(sub.maxQueue)), event, sub));
        return;
      }
      const dropped = sub.queue.shift() as RuntimeEvent;
      if (sub.gap) {
        sub.gap.dropped++;
        sub.gap.last = dropped;
      } else {
        sub.gap = { dropped: 1, first: dropped, last: dropped };
      }
    }
    sub.queue.push(event);
    if (!sub.scheduled && !sub.running) {
      sub.scheduled = true;
      queueMicrotask(() => void this.drain(sub));
    }
  }

  private async drain(sub: Subscriber): Promise<void> {
    sub.scheduled = false;
    sub.running = true;
    try {
      while (!sub.closed) {
        if (sub.gap) {
          const { dropped, first, last } = sub.gap;
          sub.gap = undefined;
          const gap: EventGap = { dropped, first: { jobId: first.jobId, seq: first.seq }, last: { jobId: last.jobId, seq: last.seq } };
          const onGap = sub.options.onGap;
          if (onGap) this.safely(() => onGap(gap), first, sub);
        }
        const event = sub.queue.shift();
        if (event === undefined) break;
        try {
          const result = sub.handler(event);
          if (result !== undefined && typeof (result as Promise<void>).then === 'function') await result;
        } catch (error) {
          this.report(error, event, sub);
        }
      }
    } finally {
      sub.running = false;
    }
  }

  private safely(fn: () => void, event: RuntimeEvent, sub: Subscriber): void {
    try {
      fn();
    } catch (error) {
      this.report(error, event, sub);
    }
  }

  private report(error: unknown, event: RuntimeEvent, sub: Subscriber): void {
    try {
      (sub.options.onError ?? this.defaults.onHandlerError)?.(error, event);
    } catch {
      // An error reporter that throws has nowhere left to report to.
    }
  }

  private close(sub: Subscriber): void {
    if (sub.closed) return;
    sub.closed = true;
    sub.queue.length = 0;
    const jobId = sub.options.jobId;
    if (jobId === undefined) {
      this.unkeyed.delete(sub);
      return;
    }
    const set = this.byJob.get(jobId);
    set?.delete(sub);
    if (set?.size === 0) this.byJob.delete(jobId);
  }
}
