import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { StreamInterruptedError } from '../errors/provider-errors.js';
import type { LanguageModel, ModelRequest, ModelResponse, ModelStreamEvent } from '../types/model.js';
import { DEFAULT_PRICES, PriceTable } from '../types/pricing.js';
import { RequestContext } from '../types/request-context.js';
import { CircuitBreakerRegistry, type CircuitBreakerState } from './circuit-breaker.js';
import { completeWithFallbacks, type CallStats } from './complete-call.js';
import { planCall, type EngineCore } from './engine-core.js';
import { checkCall, checkLanguageModel, checkPositiveMs, type ExecutionEngineOptions } from './engine-options.js';
import { ResilientStream, type StreamSettlement } from './engine-stream.js';
import { HookEmitter, type EngineHookEvents, type ModelTarget } from './hooks.js';
import { IdempotencyTracker, type IdempotencyOutcome } from './idempotency-tracker.js';
import { defaultInternals } from './internals.js';
import { requestHash } from './request-key.js';
import { InMemoryResponseCache, type ResponseCache } from './response-cache.js';
import { copyResponse, responseToEvents } from './response-events.js';
import { resolveRetryOptions } from './retry.js';
import { outputJsonSchema, parseStructuredOutput } from './structured-output.js';
import type { CompletionResult, CompletionSpec, EngineCallOptions, EngineStream, ModelExecutor } from './types.js';

interface ExecutionStats extends CallStats {
  source: 'provider' | 'cache';
  object: unknown;
  parsed: boolean;
}

const SOURCE_OF: Record<Exclude<IdempotencyOutcome, 'executed'>, CompletionResult['source']> = { joined: 'idempotency-join', hit: 'idempotency-hit' };

/**
 * Runs model calls: idempotency, exact-match cache, retries with backoff, a circuit breaker per
 * provider+model, fallbacks, timeouts and cancellation, structured output, cost and hooks.
 *
 * Order of the layers, outermost first: idempotency (a key in flight is joined, a completed one
 * answers from the tracker) → response cache (a fresh key may still be answered from the cache:
 * the cache holds answers to identical requests, which the caller opted into) → provider chain
 * (primary, then fallbacks), each provider with breaker → retries → per-attempt timeout.
 */
export class ExecutionEngine implements ModelExecutor {
  readonly model: LanguageModel;
  readonly fallbacks: readonly LanguageModel[];
  readonly hooks: HookEmitter<EngineHookEvents>;
  readonly idempotency: IdempotencyTracker;
  readonly cache: ResponseCache | undefined;
  readonly prices: PriceTable;
  private readonly core: EngineCore;
  private readonly breakers: CircuitBreakerRegistry | undefined;

  constructor(options: ExecutionEngineOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
    checkLanguageModel(options.provider, 'provider');
    const fallbacks = options.fallbacks ?? [];
    if (!Array.isArray(fallbacks)) throw new InvalidArgumentError('fallbacks', 'must be an array of LanguageModel');
    fallbacks.forEach((f, i) => checkLanguageModel(f, `fallbacks[${i}]`));
    checkPositiveMs(options.timeoutMs, 'timeoutMs');
    checkPositiveMs(options.cacheTtlMs, 'cacheTtlMs');
    if (options.prices !== undefined && !(options.prices instanceof PriceTable)) throw new InvalidArgumentError('prices', 'must be a PriceTable');
    const internals = { ...defaultInternals, ...(options._internal ?? {}) };

    this.model = options.provider;
    this.fallbacks = Object.freeze([...fallbacks]);
    this.hooks =
      options.hooks instanceof HookEmitter
        ? options.hooks
        : new HookEmitter<EngineHookEvents>({ handlers: options.hooks ?? {}, ...(options.onHookError ? { onHandlerError: options.onHookError } : {}) });
    const idempotency = options.idempotency;
    this.idempotency =
      idempotency instanceof IdempotencyTracker
        ? idempotency
        : new IdempotencyTracker({ ...(idempotency ?? {}), now: internals.now, hooks: this.hooks });
    this.cache = resolveCache(options.cache);
    this.prices = options.prices ?? new PriceTable(DEFAULT_PRICES);
    this.breakers = options.breaker === false ? undefined : new CircuitBreakerRegistry({ breaker: options.breaker ?? {}, hooks: this.hooks });
    this.core = {
      chain: [this.model, ...this.fallbacks],
      hooks: this.hooks,
      breakers: this.breakers,
      cache: this.cache,
      cacheTtlMs: options.cacheTtlMs,
      prices: this.prices,
      internals,
      retry: resolveRetryOptions(options.retry),
      timeoutMs: options.timeoutMs,
    };
  }

  /** The breaker state of a provider+model (default: the primary's default model). */
  breakerState(target: Partial<ModelTarget> = {}): CircuitBreakerState {
    if (this.breakers === undefined) return 'closed';
    return this.breakers.get(target.provider ?? this.model.provider, target.model ?? this.model.modelId).state;
  }

  async complete<O = unknown>(spec: CompletionSpec<O>, options: EngineCallOptions = {}): Promise<CompletionResult<O>> {
    const now = this.core.internals.now;
    const startedAt = now();
    checkCall(spec, options);
    const context = options.context ?? new RequestContext();
    const request = toModelRequest(spec);
    const target = { provider: this.model.provider, model: request.model ?? this.model.modelId };
    const hooks = this.hooks;
    const key = options.idempotencyKey;
    if (hooks.has('request.start')) hooks.emit('request.start', { ...target, context, mode: 'complete', idempotencyKey: key, startedAt });
    const stats: ExecutionStats = { attempts: 0, providerIndex: 0, source: 'provider', object: undefined, parsed: false };
    try {
      const useCache = this.cache !== undefined && options.cache !== false;
      const hash = key !== undefined || useCache ? requestHash(request, target) : undefined;
      const cacheKey = useCache ? hash : undefined;
      let response: ModelResponse;
      let source: CompletionResult['source'];
      if (key === undefined) {
        response = await this.execute(spec, request, options, context, cacheKey, stats);
        source = stats.source;
      } else {
        const run = await this.idempotency.run({
          key,
          fingerprint: hash as string,
          tenantId: context.tenantId,
          context,
          signal: options.signal,
          execute: (signal) => this.execute(spec, request, { ...options, signal }, context, cacheKey, stats),
        });
        // The tracker keeps the response for joiners and later hits: every caller gets its own
        // copy, so one caller changing its result cannot change another's.
        response = copyResponse(run.value);
        source = run.outcome === 'executed' ? stats.source : SOURCE_OF[run.outcome];
        if (run.outcome !== 'executed') stats.attempts = 0;
      }
      const object = spec.output === undefined ? undefined : stats.parsed ? stats.object : parseStructuredOutput(spec.output, response.text);
      const result: CompletionResult<O> = { ...response, object: object as O, source, attempts: stats.attempts, latencyMs: now() - startedAt };
      if (hooks.has('request.finish')) {
        hooks.emit('request.finish', { ...target, context, mode: 'complete', response, source, attempts: result.attempts, latencyMs: result.latencyMs });
      }
      return result;
    } catch (error) {
      if (hooks.has('request.error')) hooks.emit('request.error', { ...target, context, mode: 'complete', error, attempts: stats.attempts, latencyMs: now() - startedAt });
      throw error;
    }
  }

  stream(spec: ModelRequest, options: EngineCallOptions = {}): EngineStream {
    const now = this.core.internals.now;
    const startedAt = now();
    checkCall(spec, options);
    const context = options.context ?? new RequestContext();
    const request = toModelRequest(spec as CompletionSpec);
    const target = { provider: this.model.provider, model: request.model ?? this.model.modelId };
    const hooks = this.hooks;
    const key = options.idempotencyKey;
    if (hooks.has('request.start')) hooks.emit('request.start', { ...target, context, mode: 'stream', idempotencyKey: key, startedAt });
    const report = (outcome: StreamSettlement | { error: unknown; attempts: number }): void => {
      const latencyMs = now() - startedAt;
      if ('error' in outcome) {
        if (hooks.has('request.error')) hooks.emit('request.error', { ...target, context, mode: 'stream', error: outcome.error, attempts: outcome.attempts, latencyMs });
      } else if (hooks.has('request.finish')) {
        hooks.emit('request.finish', { ...target, context, mode: 'stream', response: outcome.response, source: outcome.source, attempts: outcome.attempts, latencyMs });
      }
    };
    const useCache = this.cache !== undefined && options.cache !== false;
    const hash = key !== undefined || useCache ? requestHash(request, target) : undefined;
    const cacheKey = useCache ? hash : undefined;
    if (key === undefined) return new ResilientStream(this.core, planCall(this.core, request, options, context, cacheKey), report);

    let inner: StreamSettlement | undefined;
    try {
      const shared = this.idempotency.stream<ModelStreamEvent, ModelResponse>({
        key,
        fingerprint: hash as string,
        tenantId: context.tenantId,
        context,
        signal: options.signal,
        execute: (signal) =>
          new ResilientStream(this.core, planCall(this.core, request, { ...options, signal }, context, cacheKey), (outcome) => {
            if (!('error' in outcome)) inner = outcome;
          }),
        finalValue: (last) => {
          if (last?.type === 'finish') return last.response;
          throw new StreamInterruptedError({ message: 'The shared stream ended without a finish event', ...target, partialText: '' });
        },
        replay: responseToEvents,
      });
      shared.value.then(
        (response) =>
          report(
            shared.outcome === 'executed'
              ? { response, source: inner?.source ?? 'provider', attempts: inner?.attempts ?? 0 }
              : { response, source: SOURCE_OF[shared.outcome], attempts: 0 },
          ),
        (error: unknown) => report({ error, attempts: inner?.attempts ?? 0 }),
      );
      return { [Symbol.asyncIterator]: () => shared.events[Symbol.asyncIterator](), response: shared.value };
    } catch (error) {
      report({ error, attempts: 0 });
      return failedStream(error);
    }
  }

  /** One execution: cache, then the provider chain; validates structured output before caching. */
  private async execute(
    spec: CompletionSpec<unknown>,
    request: ModelRequest,
    options: EngineCallOptions,
    context: RequestContext,
    cacheKey: string | undefined,
    stats: ExecutionStats,
  ): Promise<ModelResponse> {
    const core = this.core;
    if (cacheKey !== undefined && core.cache !== undefined) {
      const hit = await core.cache.get(cacheKey);
      const target = { provider: this.model.provider, model: request.model ?? this.model.modelId };
      if (hit !== undefined) {
        core.hooks.emit('cache.hit', { ...target, context, key: cacheKey });
        stats.source = 'cache';
        return hit;
      }
      core.hooks.emit('cache.miss', { ...target, context, key: cacheKey });
    }
    const response = await completeWithFallbacks(core, planCall(core, request, options, context, cacheKey), stats);
    if (spec.output !== undefined) {
      stats.object = parseStructuredOutput(spec.output, response.text);
      stats.parsed = true;
    }
    if (cacheKey !== undefined && core.cache !== undefined && stats.providerIndex === 0 && response.finishReason !== 'error') {
      try {
        await core.cache.set(cacheKey, response, core.cacheTtlMs);
      } catch {
        // A cache that fails to store never fails the call.
      }
    }
    return response;
  }
}

/** The request sent to providers: `output` becomes `responseFormat` with the schema's JSON schema. */
function toModelRequest(spec: CompletionSpec<unknown>): ModelRequest {
  if (spec.output === undefined) {
    if (!('output' in spec)) return spec;
    const { output: _unused, ...rest } = spec;
    return rest;
  }
  const { output, ...rest } = spec;
  const responseFormat: NonNullable<ModelRequest['responseFormat']> = { type: 'json', schema: outputJsonSchema(output) };
  if (spec.responseFormat?.name !== undefined) responseFormat.name = spec.responseFormat.name;
  return { ...rest, responseFormat };
}

function resolveCache(cache: ExecutionEngineOptions['cache']): ResponseCache | undefined {
  if (cache === undefined || cache === false) return undefined;
  if (cache === true) return new InMemoryResponseCache();
  if (typeof cache !== 'object' || cache === null || typeof cache.get !== 'function' || typeof cache.set !== 'function') {
    throw new InvalidArgumentError('cache', 'must be a boolean or a ResponseCache (get/set)');
  }
  return cache;
}

function failedStream(error: unknown): EngineStream {
  const response = Promise.reject(error);
  response.then(undefined, () => undefined);
  return {
    response,
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
  };
}
