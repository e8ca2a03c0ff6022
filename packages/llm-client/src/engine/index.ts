export { ExecutionEngine } from './execution-engine.js';
export type { ExecutionEngineOptions } from './engine-options.js';
export {
  IdempotencyTracker,
  type IdempotencyTrackerOptions,
  type IdempotencyClaim,
  type IdempotencyOutcome,
  type IdempotentResult,
  type IdempotentStream,
} from './idempotency-tracker.js';
export { SharedStream } from './shared-stream.js';
export {
  CircuitBreaker,
  CircuitBreakerRegistry,
  type CircuitBreakerOptions,
  type CircuitBreakerState,
  type BreakerLease,
  type BreakerHookEvents,
} from './circuit-breaker.js';
export {
  DEFAULT_RETRY,
  NO_RETRY,
  resolveRetryOptions,
  isRetryableError,
  retryAfterOf,
  retryDelayMs,
  type ResolvedRetryOptions,
} from './retry.js';
export { InMemoryResponseCache, type ResponseCache, type InMemoryResponseCacheOptions } from './response-cache.js';
export { canonicalJson, stableHash } from './stable-hash.js';
export { normalizeRequest, requestHash } from './request-key.js';
export { responseToEvents, copyResponse } from './response-events.js';
export { outputJsonSchema, parseStructuredOutput, stripJsonFence } from './structured-output.js';
export { abortableSleep, type EngineInternals } from './internals.js';
export {
  HookEmitter,
  type HookHandler,
  type HookHandlers,
  type HookSink,
  type HookEmitterOptions,
  type EngineHookEvents,
  type IdempotencyHookEvents,
  type ModelTarget,
  type RequestStartEvent,
  type RequestFinishEvent,
  type RequestErrorEvent,
  type RetryEvent,
  type BreakerEvent,
  type FallbackEvent,
  type CacheEvent,
  type IdempotencyEvent,
  type IdempotencyHitEvent,
  type IdempotencyCompleteEvent,
  type IdempotencyFailEvent,
} from './hooks.js';
