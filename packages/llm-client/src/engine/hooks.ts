import type { ModelResponse } from '../types/model.js';
import type { RequestContext } from '../types/request-context.js';
import type { CompletionResult } from './types.js';

/** Which provider+model an event is about. */
export interface ModelTarget {
  provider: string;
  model: string;
}

export interface RequestStartEvent extends ModelTarget {
  context: RequestContext;
  mode: 'complete' | 'stream';
  idempotencyKey: string | undefined;
  /** `now()` when the call started (ms). */
  startedAt: number;
}

export interface RequestFinishEvent extends ModelTarget {
  context: RequestContext;
  mode: 'complete' | 'stream';
  response: ModelResponse;
  source: CompletionResult['source'];
  attempts: number;
  latencyMs: number;
}

export interface RequestErrorEvent extends ModelTarget {
  context: RequestContext;
  mode: 'complete' | 'stream';
  error: unknown;
  attempts: number;
  latencyMs: number;
}

export interface RetryEvent extends ModelTarget {
  context: RequestContext;
  /** The retry about to be made: 1 for the first retry. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface BreakerEvent extends ModelTarget {
  /** The failure that opened the breaker (for `breaker.open`). */
  error?: unknown;
}

export interface FallbackEvent {
  context: RequestContext;
  from: ModelTarget;
  to: ModelTarget;
  error: unknown;
}

export interface CacheEvent extends ModelTarget {
  context: RequestContext;
  key: string;
}

export interface IdempotencyEvent {
  key: string;
  tenantId: string | undefined;
  context: RequestContext | undefined;
}

export interface IdempotencyHitEvent extends IdempotencyEvent {
  /** True when the call joined one still in flight, false when it got a completed result. */
  inFlight: boolean;
}

export interface IdempotencyCompleteEvent extends IdempotencyEvent {
  durationMs: number;
}

export interface IdempotencyFailEvent extends IdempotencyEvent {
  durationMs: number;
  error: unknown;
}

/** Idempotency events, emitted by `IdempotencyTracker`. */
export interface IdempotencyHookEvents {
  'idempotency.start': IdempotencyEvent;
  'idempotency.hit': IdempotencyHitEvent;
  'idempotency.conflict': IdempotencyEvent;
  'idempotency.complete': IdempotencyCompleteEvent;
  'idempotency.fail': IdempotencyFailEvent;
}

/** Every event `ExecutionEngine` emits, by name. */
export interface EngineHookEvents extends IdempotencyHookEvents {
  'request.start': RequestStartEvent;
  'request.finish': RequestFinishEvent;
  'request.error': RequestErrorEvent;
  retry: RetryEvent;
  'breaker.open': BreakerEvent;
  'breaker.half-open': BreakerEvent;
  'breaker.close': BreakerEvent;
  fallback: FallbackEvent;
  'cache.hit': CacheEvent;
  'cache.miss': CacheEvent;
}

export type HookHandler<P> = (payload: P) => void | Promise<void>;

/** Handlers to register at construction: `{ 'request.finish': (e) => ... }`. */
export type HookHandlers<E> = { [K in keyof E]?: HookHandler<E[K]> };

/** The emitting side of a hook emitter, what the engine's parts depend on. */
export interface HookSink<E> {
  /** True when someone listens to `name`: lets callers skip building a payload. */
  has(name: keyof E): boolean;
  emit<K extends keyof E>(name: K, payload: E[K]): void;
}

export interface HookEmitterOptions<E> {
  /** Called when a handler throws or rejects (default: the error is dropped). */
  onHandlerError?: (error: unknown, name: keyof E) => void;
  handlers?: HookHandlers<E>;
}

/**
 * A small typed event emitter. Handlers run synchronously in registration order; one that
 * throws (or returns a rejected promise) never breaks the call that emitted the event.
 */
export class HookEmitter<E> implements HookSink<E> {
  private readonly handlers = new Map<keyof E, Array<HookHandler<never>>>();
  private readonly onHandlerError: ((error: unknown, name: keyof E) => void) | undefined;

  constructor(options: HookEmitterOptions<E> = {}) {
    this.onHandlerError = options.onHandlerError;
    for (const [name, handler] of Object.entries(options.handlers ?? {})) {
      if (handler !== undefined) this.on(name as keyof E, handler as HookHandler<E[keyof E]>);
    }
  }

  /** Registers `handler` for `name`; returns a function that removes it. */
  on<K extends keyof E>(name: K, handler: HookHandler<E[K]>): () => void {
    if (typeof handler !== 'function') throw new TypeError(`hook handler for '${String(name)}' must be a function`);
    const list = this.handlers.get(name);
    // Copy on write: an emit in progress keeps iterating its own snapshot.
    this.handlers.set(name, list ? [...list, handler as HookHandler<never>] : [handler as HookHandler<never>]);
    return () => this.off(name, handler);
  }

  off<K extends keyof E>(name: K, handler: HookHandler<E[K]>): void {
    const list = this.handlers.get(name);
    if (!list) return;
    const next = list.filter((h) => h !== (handler as HookHandler<never>));
    if (next.length === 0) this.handlers.delete(name);
    else this.handlers.set(name, next);
  }

  has(name: keyof E): boolean {
    return this.handlers.has(name);
  }

  emit<K extends keyof E>(name: K, payload: E[K]): void {
    const list = this.handlers.get(name) as Array<HookHandler<E[K]>> | undefined;
    if (list === undefined) return;
    for (const handler of list) {
      try {
        const r = handler(payload);
        if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
          (r as Promise<void>).then(undefined, (error: unknown) => this.reportError(error, name));
        }
      } catch (error) {
        this.reportError(error, name);
      }
    }
  }

  private reportError(error: unknown, name: keyof E): void {
    if (this.onHandlerError === undefined) return;
    try {
      this.onHandlerError(error, name);
    } catch {
      // An error reporter that throws is ignored too.
    }
  }
}
