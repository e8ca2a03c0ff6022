import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { LanguageModel, ModelRequest } from '../types/model.js';
import type { PriceTable } from '../types/pricing.js';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import type { EngineHookEvents, HookEmitter, HookHandlers } from './hooks.js';
import type { IdempotencyTracker } from './idempotency-tracker.js';
import type { EngineInternals } from './internals.js';
import type { ResponseCache } from './response-cache.js';
import type { EngineCallOptions, RetryOptions } from './types.js';

export interface ExecutionEngineOptions {
  /** The primary model. */
  provider: LanguageModel;
  /**
   * Tried in order when the primary's breaker is open or its retries are exhausted (after a
   * retryable failure). A fallback is called with its own default model (`modelId`).
   */
  fallbacks?: readonly LanguageModel[];
  /** Retry options for every call (default: 2 retries, 500 ms initial backoff, 30 s cap); `false` disables. */
  retry?: RetryOptions | false;
  /** Circuit breaker per provider+model (default: on, with its defaults); `false` disables. */
  breaker?: CircuitBreakerOptions | false;
  /** Default per-attempt timeout (none by default). */
  timeoutMs?: number;
  /** Idempotency settings, or a tracker to share between engines. */
  idempotency?: { ttlMs?: number; maxEntries?: number } | IdempotencyTracker;
  /**
   * Exact-match response cache (off by default): `true` for an in-memory LRU, or your own
   * `ResponseCache`. Calls can opt out with `{ cache: false }`.
   */
  cache?: ResponseCache | boolean;
  /** TTL of what the engine stores in the cache (default: the cache's own). */
  cacheTtlMs?: number;
  /** Prices for `response.cost` (default `new PriceTable(DEFAULT_PRICES)`). */
  prices?: PriceTable;
  /** Handlers to register at once, or an emitter to share. More can be added with `engine.hooks.on`. */
  hooks?: HookHandlers<EngineHookEvents> | HookEmitter<EngineHookEvents>;
  /** Called when a hook handler throws (default: ignored). */
  onHookError?: (error: unknown, hook: keyof EngineHookEvents) => void;
  /** Clock, sleep and randomness, for tests. */
  _internal?: Partial<EngineInternals>;
}

export function checkLanguageModel(value: unknown, name: string): asserts value is LanguageModel {
  const m = value as Partial<LanguageModel> | null | undefined;
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.complete !== 'function' ||
    typeof m.stream !== 'function' ||
    typeof m.provider !== 'string' ||
    typeof m.modelId !== 'string'
  ) {
    throw new InvalidArgumentError(name, 'must be a LanguageModel (provider, modelId, complete(), stream())');
  }
  if (m.specificationVersion !== 'v1') throw new InvalidArgumentError(name, `unsupported specificationVersion '${String(m.specificationVersion)}'`);
}

export function checkPositiveMs(value: unknown, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(name, `must be a positive number of ms, got ${String(value)}`);
}

/** Cheap checks run on every call. */
export function checkCall(spec: ModelRequest, options: EngineCallOptions): void {
  if (typeof spec !== 'object' || spec === null || !Array.isArray(spec.messages)) throw new InvalidArgumentError('spec.messages', 'must be an array of messages');
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
  if (options.timeoutMs !== undefined) checkPositiveMs(options.timeoutMs, 'options.timeoutMs');
  const key = options.idempotencyKey;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0)) throw new InvalidArgumentError('options.idempotencyKey', 'must be a non-empty string');
  const signal = options.signal;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.addEventListener !== 'function')) {
    throw new InvalidArgumentError('options.signal', 'must be an AbortSignal');
  }
}
