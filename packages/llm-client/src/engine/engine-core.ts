import { AllProvidersFailedError } from '../errors/engine-errors.js';
import { StreamInterruptedError } from '../errors/provider-errors.js';
import { BatonError } from '../errors/baton-error.js';
import type { LanguageModel, ModelCallOptions, ModelRequest, ModelResponse } from '../types/model.js';
import type { PriceTable } from '../types/pricing.js';
import type { RequestContext } from '../types/request-context.js';
import type { CircuitBreakerRegistry } from './circuit-breaker.js';
import type { EngineHookEvents, HookEmitter, ModelTarget } from './hooks.js';
import type { EngineInternals } from './internals.js';
import type { ResponseCache } from './response-cache.js';
import { isRetryableError, resolveRetryOptions, type ResolvedRetryOptions } from './retry.js';
import type { EngineCallOptions } from './types.js';

/** Everything an engine call needs, built once per engine and shared by every call. */
export interface EngineCore {
  readonly chain: readonly LanguageModel[];
  readonly hooks: HookEmitter<EngineHookEvents>;
  readonly breakers: CircuitBreakerRegistry | undefined;
  readonly cache: ResponseCache | undefined;
  readonly cacheTtlMs: number | undefined;
  readonly prices: PriceTable;
  readonly internals: EngineInternals;
  readonly retry: ResolvedRetryOptions;
  readonly timeoutMs: number | undefined;
}

/** One engine call after its options were unpacked. */
export interface CallPlan {
  readonly request: ModelRequest;
  readonly context: RequestContext;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number | undefined;
  readonly retry: ResolvedRetryOptions;
  readonly headers: Record<string, string> | undefined;
  /** The response-cache key when this call reads and writes the cache. */
  readonly cacheKey: string | undefined;
}

export function planCall(core: EngineCore, request: ModelRequest, options: EngineCallOptions, context: RequestContext, cacheKey: string | undefined): CallPlan {
  const key = options.idempotencyKey;
  return {
    request,
    context,
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? core.timeoutMs,
    retry: options.retry === undefined ? core.retry : resolveRetryOptions(options.retry, core.retry),
    headers: key === undefined ? undefined : { 'Idempotency-Key': context.tenantId ? `${context.tenantId}:${key}` : key },
    cacheKey,
  };
}

/** The provider at `index` in the chain and the request it gets: fallbacks use their own default model. */
export function requestFor(core: EngineCore, index: number, request: ModelRequest): { provider: LanguageModel; request: ModelRequest; target: ModelTarget } {
  const provider = core.chain[index] as LanguageModel;
  if (index === 0) return { provider, request, target: { provider: provider.provider, model: request.model ?? provider.modelId } };
  return { provider, request: { ...request, model: provider.modelId }, target: { provider: provider.provider, model: provider.modelId } };
}

export function callOptionsFor(plan: CallPlan, signal: AbortSignal | undefined): ModelCallOptions {
  const out: ModelCallOptions = { context: plan.context };
  if (signal !== undefined) out.signal = signal;
  if (plan.headers !== undefined) out.headers = plan.headers;
  return out;
}

/** The response with its cost from the engine's price table. */
export function withCost(core: EngineCore, response: ModelResponse): ModelResponse {
  const cost = core.prices.cost(response.provider, response.model, response.usage);
  return cost === undefined ? response : { ...response, cost };
}

/** Whether the next provider in the chain should be tried after `error` (open circuit, retries exhausted). */
export function shouldFallBack(error: unknown): boolean {
  return BatonError.isInstance(error) && (error.code === 'circuit_open' || isRetryableError(error));
}

/** One failure per provider tried: the failure itself when only one was tried, else `AllProvidersFailedError`. */
export function finalError(errors: readonly unknown[]): unknown {
  return errors.length === 1 ? errors[0] : new AllProvidersFailedError(errors);
}

/** A failure after part of a stream reached the consumer: reported as `StreamInterruptedError` with what was delivered. */
export function interruptedError(error: unknown, target: ModelTarget, partialText: string, partialToolCalls: Array<{ id: string; name: string; arguments: string }>): unknown {
  if (!BatonError.isInstance(error) || !error.retryable || error.code === 'stream_interrupted' || error.code === 'timeout') return error;
  return new StreamInterruptedError({
    message: `The stream from ${target.provider}:${target.model} was cut after output was delivered: ${error.message}`,
    provider: target.provider,
    model: target.model,
    partialText,
    partialToolCalls,
    cause: error,
  });
}
