import { InvalidArgumentError } from '@baton/llm-client';
import { CorruptRecordError, SubscriberOverflowError } from '../errors/store-errors.js';
import { toFrozenJsonObject, type JsonObject } from '../jobs/json-value.js';
import {
  EventBus,
  type EventGap,
  type EventHandler,
  type EventUnsubscribe,
  type ReplayOptions,
  type SubscribeOptions,
  type SubscriberOverflowPolicy,
} from '../ports/event-bus.js';
import { ScopedMap } from '../jobs/scoped-map.js';
import { FifoQueue } from './fifo-queue.js';
import { parseRuntimeEvent, passesAsRuntimeEvent, type RuntimeEvent, type RuntimeEventInput } from './runtime-event.js';
import { RUNTIME_EVENT_TYPES, TERMINAL_JOB_EVENT_TYPES, type RuntimeEventType } from './runtime-event-type.js';

export interface InMemoryEventBusOptions {
  /** Events kept per job for `replay`; older ones are evicted first. Default 1,000. */
  readonly maxEventsPerJob?: number | undefined;
  /** How long a finished job's events stay replayable after its terminal event. Default 5 minutes. */
  readonly finishedJobTtlMs?: number | undefined;
  /** Default queue bound of each subscriber. Default 1,000. */
  readonly maxQueue?: number | undefined;
  /** Default overflow policy of each subscriber. Default `drop-oldest`. */
  readonly overflow?: SubscriberOverflowPolicy | undefined;
  /** Called when a handler throws or rejects and its subscription has no `onError`. */
  readonly onHandlerError?: ((error: unknown, event: RuntimeEvent) => void) | undefined;
  readonly now?: (() => number) | undefined;
  readonly generateId?: (() => string) | undefined;
}

interface JobHistory {
  readonly scopeId: string;
  readonly jobId: string;
  nextSeq: number;
  /** Stored events (or planted raw rows), contiguous seqs. */
  readonly events: FifoQueue<unknown>;
  firstSeq: number;
  finishedAt: number | undefined;
}

interface Subscriber {
  readonly handler: EventHandler;
  readonly options: SubscribeOptions;
  readonly types: ReadonlySet<RuntimeEventType> | undefined;
  readonly maxQueue: number;
  readonly overflow: SubscriberOverflowPolicy;
  readonly queue: FifoQueue<RuntimeEvent>;
  gap: { dropped: number; first: RuntimeEvent; last: RuntimeEvent } | undefined;
  scheduled: boolean;
  running: boolean;
  closed: boolean;
}

const TYPES: ReadonlySet<string> = new Set(RUNTIME_EVENT_TYPES);

/**
 * `EventBus` in process memory.
 *
 * Validation: `publish` refuses what the durable buses refuse, with the same
 * `InvalidArgumentError`: data that is not a JSON object (`event.data…`), and anything the
 * parser that reads events back refuses, the type's `data` schema included (`event`). A refused
 * event is neither stored nor delivered and uses no seq; `publishMany` validates the whole batch
 * before storing any of it. Stored events are frozen copies, handed to readers as they are.
 *
 * History: the bus keeps the last `maxEventsPerJob` events of each job for `replay` and
 * `stream({ fromSeq })`, and forgets a job `finishedJobTtlMs` after its terminal event
 * (completed, failed, cancelled, interrupted, dead-lettered); a job that publishes again
 * after that starts a new history.
 *
 * Slow subscribers: `publish` only appends to each matching subscriber's queue and schedules
 * its delivery on a microtask, so it never waits for a handler. A subscriber gets its events
 * one at a time, in publish order, awaiting a handler that returns a promise. When its queue
 * holds `maxQueue` events, the overflow policy applies: `drop-oldest` (the default) drops the
 * oldest queued event and calls `onGap` with the range lost before delivering the next event;
 * `disconnect` unsubscribes it and calls `onDisconnect` with a `SubscriberOverflowError`.
 * A handler that throws is reported to `onError` (or the bus's `onHandlerError`) and the
 * subscriber keeps receiving.
 */
export class InMemoryEventBus extends EventBus {
  readonly #histories = new ScopedMap<JobHistory>();
  readonly #finished = new FifoQueue<{ history: JobHistory; at: number }>();
  /** Rows put in by `plantRawForTesting`: the only ones not written (and validated) by this store. */
  readonly #planted = new Set<unknown>();
  readonly #byJob = new Map<string, Set<Subscriber>>();
  readonly #unkeyed = new Set<Subscriber>();
  readonly #maxEventsPerJob: number;
  readonly #ttlMs: number;
  readonly #maxQueue: number;
  readonly #overflow: SubscriberOverflowPolicy;
  readonly #onHandlerError: ((error: unknown, event: RuntimeEvent) => void) | undefined;
  readonly #now: () => number;
  readonly #generateId: () => string;

  constructor(options: InMemoryEventBusOptions = {}) {
    super();
    this.#maxEventsPerJob = positiveInt(options.maxEventsPerJob ?? 1000, 'maxEventsPerJob');
    this.#ttlMs = options.finishedJobTtlMs ?? 5 * 60_000;
    if (!(this.#ttlMs >= 0)) throw new InvalidArgumentError('finishedJobTtlMs', 'must be ≥ 0');
    this.#maxQueue = positiveInt(options.maxQueue ?? 1000, 'maxQueue');
    this.#overflow = overflowPolicy(options.overflow ?? 'drop-oldest');
    this.#onHandlerError = options.onHandlerError;
    this.#now = options.now ?? Date.now;
    if (options.generateId) {
      this.#generateId = options.generateId;
    } else {
      // A random prefix per bus and a counter: unique, and much cheaper than a UUID per event.
      const prefix = `evt_${Buffer.from(crypto.getRandomValues(new Uint8Array(10))).toString('hex')}_`;
      let n = 0;
      this.#generateId = () => prefix + (++n).toString(36);
    }
  }

  override async publish<K extends RuntimeEventType>(input: RuntimeEventInput<K>): Promise<RuntimeEvent<K>> {
    const now = this.#now();
    const event = this.#build(input, now);
    this.#evictExpired(now);
    return this.#store(event, now) as RuntimeEvent<K>;
  }

  /**
   * Every event validated first, then all stored and delivered in order (as `publish` would one
   * by one, each after the previous one of its job); an invalid event anywhere stores and
   * delivers none of the batch.
   */
  override async publishMany(inputs: readonly RuntimeEventInput[]): Promise<RuntimeEvent[]> {
    if (!Array.isArray(inputs)) throw new InvalidArgumentError('events', 'must be an array of events');
    const now = this.#now();
    const events = inputs.map((input) => this.#build(input, now));
    return events.map((event) => {
      this.#evictExpired(now);
      return this.#store(event, now);
    });
  }

  /**
   * Validates an input as the durable buses do, with the parser that reads events back (the
   * type's `data` schema included), and builds its record without a seq. Throws
   * `InvalidArgumentError` (`event.data…` for data that is not JSON, `event` for anything the
   * parser refuses); nothing is stored, no seq is used.
   */
  #build(input: RuntimeEventInput, now: number): Record<string, unknown> {
    if (typeof input !== 'object' || input === null || !TYPES.has(input.type)) throw new InvalidArgumentError('event.type', 'not a runtime event type');
    const { jobId, scopeId } = input;
    if (typeof jobId !== 'string' || jobId === '') throw new InvalidArgumentError('event.jobId', 'required');
    if (typeof scopeId !== 'string' || scopeId === '') throw new InvalidArgumentError('event.scopeId', 'required');
    // Checked here for its error's path; the copy stored is made once, from what the parser returns.
    // Checked as JSON and copied (frozen) in one walk; a copy the schema passes as it is is stored as it is.
    const data = toFrozenJsonObject(input.data, 'event.data');
    const event: Record<string, unknown> = { schemaVersion: 1, id: input.id ?? this.#generateId(), type: input.type, jobId, scopeId, seq: 1, at: input.at ?? now, data };
    if (input.sessionId !== undefined) event.sessionId = input.sessionId;
    if (input.traceId !== undefined) event.traceId = input.traceId;
    if (passesAsRuntimeEvent(event)) return event;
    let parsed: RuntimeEvent;
    try {
      parsed = parseRuntimeEvent(event, { jobId, scopeId, seq: 1 });
    } catch (error) {
      if (error instanceof CorruptRecordError) throw new InvalidArgumentError('event', error.issue, error);
      throw error;
    }
    // What the durable buses store: the event as parsed (keys its type does not define are dropped).
    return { ...parsed, data: toFrozenJsonObject(parsed.data as JsonObject, 'event.data') };
  }

  /** Gives a built event its job's next seq, stores it and hands it to matching subscribers. */
  #store(event: Record<string, unknown>, now: number): RuntimeEvent {
    const jobId = event.jobId as string;
    const type = event.type as RuntimeEventType;
    const scopeId = event.scopeId as string;
    let history = this.#histories.get(scopeId, jobId);
    if (!history) this.#histories.set(scopeId, jobId, (history = { scopeId, jobId, nextSeq: 1, events: new FifoQueue(), firstSeq: 1, finishedAt: undefined }));
    event.seq = history.nextSeq++;
    const stored = Object.freeze(event) as unknown as RuntimeEvent;
    history.events.push(stored);
    if (history.events.length > this.#maxEventsPerJob) {
      history.events.shift();
      history.firstSeq++;
    }
    if (TERMINAL_JOB_EVENT_TYPES.has(type)) {
      history.finishedAt = now;
      this.#finished.push({ history, at: now });
    } else {
      history.finishedAt = undefined;
    }
    const keyed = this.#byJob.get(jobId);
    if (keyed) for (const sub of keyed) this.#offer(sub, stored);
    for (const sub of this.#unkeyed) this.#offer(sub, stored);
    return stored;
  }

  override subscribe(handler: EventHandler, options: SubscribeOptions = {}): EventUnsubscribe {
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', 'must be a function');
    if (options.eventTypes?.some((t) => !TYPES.has(t))) throw new InvalidArgumentError('eventTypes', 'contains an unknown event type');
    const sub: Subscriber = {
      handler,
      options,
      types: options.eventTypes ? new Set(options.eventTypes) : undefined,
      maxQueue: positiveInt(options.maxQueue ?? this.#maxQueue, 'maxQueue'),
      overflow: overflowPolicy(options.overflow ?? this.#overflow),
      queue: new FifoQueue(),
      gap: undefined,
      scheduled: false,
      running: false,
      closed: false,
    };
    if (options.jobId !== undefined) {
      let set = this.#byJob.get(options.jobId);
      if (!set) this.#byJob.set(options.jobId, (set = new Set()));
      set.add(sub);
    } else {
      this.#unkeyed.add(sub);
    }
    return () => this.#close(sub);
  }

  override async replay(options: ReplayOptions): Promise<readonly RuntimeEvent[]> {
    const fromSeq = options.fromSeq ?? 1;
    if (!Number.isInteger(fromSeq) || fromSeq < 1) throw new InvalidArgumentError('fromSeq', 'must be an integer ≥ 1');
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (limit !== Number.POSITIVE_INFINITY && (!Number.isInteger(limit) || limit < 1)) throw new InvalidArgumentError('limit', 'must be a positive integer');
    this.#evictExpired(this.#now());
    const history = this.#histories.get(options.scopeId, options.jobId);
    if (!history) return [];
    const out: RuntimeEvent[] = [];
    for (let i = Math.max(0, fromSeq - history.firstSeq); i < history.events.length && out.length < limit; i++) {
      out.push(this.#load(history.events.at(i), options, history.firstSeq + i));
    }
    return out;
  }

  /** Forgets finished jobs whose TTL has passed (publish and replay also do it as they go). */
  evictExpired(): void {
    this.#evictExpired(this.#now());
  }

  /**
   * Test hook: stores `raw` as the job's event `seq` (one still retained) without validation,
   * as a damaged row would be, so that tests can check that replaying it fails with
   * `CorruptRecordError`.
   */
  plantRawForTesting(options: { jobId: string; scopeId: string; seq: number; raw: unknown }): void {
    const history = this.#histories.get(options.scopeId, options.jobId);
    const index = history ? options.seq - history.firstSeq : -1;
    if (!history || index < 0 || index >= history.events.length) throw new InvalidArgumentError('seq', 'not a retained event');
    const kept = [...history.events];
    this.#planted.add(options.raw);
    kept[index] = options.raw;
    history.events.clear();
    for (const e of kept) history.events.push(e);
  }

  #load(row: unknown, ref: ReplayOptions, seq: number): RuntimeEvent {
    if (this.#planted.size === 0 || !this.#planted.has(row)) return row as RuntimeEvent;
    const event = parseRuntimeEvent(row, { jobId: ref.jobId, scopeId: ref.scopeId, seq });
    if (event.seq !== seq || event.jobId !== ref.jobId || event.scopeId !== ref.scopeId) {
      throw new CorruptRecordError({ recordType: 'event', recordId: `${ref.jobId}#${seq}`, jobId: ref.jobId, scopeId: ref.scopeId, issue: `stored as seq ${seq} but names ${event.jobId}#${event.seq}` });
    }
    return event;
  }

  #evictExpired(now: number): void {
    for (let head = this.#finished.peek(); head && head.at + this.#ttlMs <= now; head = this.#finished.peek()) {
      this.#finished.shift();
      const { history } = head;
      // Evict only if the job is still finished since that same terminal event.
      if (history.finishedAt === head.at && this.#histories.get(history.scopeId, history.jobId) === history) this.#histories.delete(history.scopeId, history.jobId);
    }
  }

  #offer(sub: Subscriber, event: RuntimeEvent): void {
    const o = sub.options;
    if (o.scopeId !== undefined && o.scopeId !== event.scopeId) return;
    if (o.sessionId !== undefined && o.sessionId !== event.sessionId) return;
    if (sub.types !== undefined && !sub.types.has(event.type)) return;
    if (sub.queue.length >= sub.maxQueue) {
      if (sub.overflow === 'disconnect') {
        this.#close(sub);
        const onDisconnect = o.onDisconnect;
        if (onDisconnect) queueMicrotask(() => this.#safely(() => onDisconnect(new SubscriberOverflowError(sub.maxQueue)), event, sub));
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
      queueMicrotask(() => void this.#drain(sub));
    }
  }

  async #drain(sub: Subscriber): Promise<void> {
    sub.scheduled = false;
    sub.running = true;
    try {
      while (!sub.closed) {
        if (sub.gap) {
          const { dropped, first, last } = sub.gap;
          sub.gap = undefined;
          const gap: EventGap = { dropped, first: { jobId: first.jobId, seq: first.seq }, last: { jobId: last.jobId, seq: last.seq } };
          const onGap = sub.options.onGap;
          if (onGap) this.#safely(() => onGap(gap), first, sub);
        }
        const event = sub.queue.shift();
        if (event === undefined) break;
        try {
          const result = sub.handler(event);
          if (result !== undefined && typeof (result as Promise<void>).then === 'function') await result;
        } catch (error) {
          this.#reportError(error, event, sub);
        }
      }
    } finally {
      sub.running = false;
    }
  }

  #safely(fn: () => void, event: RuntimeEvent, sub: Subscriber): void {
    try {
      fn();
    } catch (error) {
      this.#reportError(error, event, sub);
    }
  }

  #reportError(error: unknown, event: RuntimeEvent, sub: Subscriber): void {
    const report = sub.options.onError ?? this.#onHandlerError;
    try {
      report?.(error, event);
    } catch {
      // An error reporter that throws has nowhere left to report to.
    }
  }

  #close(sub: Subscriber): void {
    if (sub.closed) return;
    sub.closed = true;
    sub.queue.clear();
    const jobId = sub.options.jobId;
    if (jobId === undefined) {
      this.#unkeyed.delete(sub);
      return;
    }
    const set = this.#byJob.get(jobId);
    set?.delete(sub);
    if (set?.size === 0) this.#byJob.delete(jobId);
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(name, 'must be a positive integer');
  return value;
}

function overflowPolicy(value: SubscriberOverflowPolicy): SubscriberOverflowPolicy {
  if (value !== 'drop-oldest' && value !== 'disconnect') throw new InvalidArgumentError('overflow', "must be 'drop-oldest' or 'disconnect'");
  return value;
}
