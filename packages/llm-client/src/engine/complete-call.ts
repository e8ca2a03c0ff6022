import { AbortError } from '../errors/engine-errors.js';
import type { LanguageModel, ModelCallOptions, ModelRequest, ModelResponse } from '../types/model.js';
import { AttemptScope } from './attempt-scope.js';
import { callOptionsFor, finalError, requestFor, shouldFallBack, withCost, type CallPlan, type EngineCore } from './engine-core.js';
import type { ModelTarget } from './hooks.js';
import { isRetryableError, retryDelayMs } from './retry.js';

/** Counts kept while a call runs (read by the engine for `CompletionResult.attempts`). */
export interface CallStats {
  attempts: number;
  /** Index in the provider chain of the provider that answered (0: the primary). */
  providerIndex: number;
}

/**
 * A `complete()` through the provider chain: each provider with its breaker and retries, the
 * next one when the breaker is open or the retries are exhausted. The response carries its cost.
 */
export async function completeWithFallbacks(core: EngineCore, plan: CallPlan, stats: CallStats): Promise<ModelResponse> {
  const chain = core.chain;
  let errors: unknown[] | undefined;
  for (let i = 0; i < chain.length; i++) {
    const { provider, request, target } = requestFor(core, i, plan.request);
    try {
      const response = withCost(core, await completeWithRetries(core, plan, provider, request, target, stats));
      stats.providerIndex = i;
      return response;
    } catch (error) {
      (errors ??= []).push(error);
      if (plan.signal?.aborted || !shouldFallBack(error) || i + 1 >= chain.length) break;
      if (core.hooks.has('fallback')) {
        const next = requestFor(core, i + 1, plan.request).target;
        core.hooks.emit('fallback', { context: plan.context, from: target, to: next, error });
      }
    }
  }
  throw finalError(errors ?? []);
}

async function completeWithRetries(core: EngineCore, plan: CallPlan, provider: LanguageModel, request: ModelRequest, target: ModelTarget, stats: CallStats): Promise<ModelResponse> {
  const breaker = core.breakers?.get(target.provider, target.model);
  const scoped = plan.signal !== undefined || plan.timeoutMs !== undefined;
  const options = scoped ? undefined : callOptionsFor(plan, undefined);
  for (let retry = 0; ; retry++) {
    if (plan.signal?.aborted) throw new AbortError(plan.signal.reason);
    stats.attempts++;
    try {
      const attempt = scoped ? () => scopedAttempt(plan, provider, request, target) : () => provider.complete(request, options);
      return await (breaker === undefined ? attempt() : breaker.execute(attempt));
    } catch (error) {
      if (retry >= plan.retry.maxRetries || !isRetryableError(error) || plan.signal?.aborted) throw error;
      const delayMs = retryDelayMs({ retry: retry + 1, error, retryOptions: plan.retry, random: core.internals.random });
      if (core.hooks.has('retry')) core.hooks.emit('retry', { ...target, context: plan.context, attempt: retry + 1, delayMs, error });
      await core.internals.sleep(delayMs, plan.signal);
    }
  }
}

/** One attempt with its own signal (caller's abort + timeout), settled at once when either fires. */
async function scopedAttempt(plan: CallPlan, provider: LanguageModel, request: ModelRequest, target: ModelTarget): Promise<ModelResponse> {
  const scope = new AttemptScope({ signal: plan.signal, timeoutMs: plan.timeoutMs, what: `The call to ${target.provider}:${target.model}` });
  try {
    const options: ModelCallOptions = callOptionsFor(plan, scope.signal);
    let pending: Promise<ModelResponse>;
    try {
      pending = provider.complete(request, options);
    } catch (error) {
      pending = Promise.reject(error);
    }
    return await scope.race(pending);
  } finally {
    scope.dispose();
  }
}
