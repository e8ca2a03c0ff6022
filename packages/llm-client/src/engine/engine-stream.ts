import { AbortError } from '../errors/engine-errors.js';
import { StreamInterruptedError } from '../errors/provider-errors.js';
import type { ToolCall } from '../types/messages.js';
import type { ModelResponse, ModelStreamEvent } from '../types/model.js';
import { AttemptScope } from './attempt-scope.js';
import type { BreakerLease } from './circuit-breaker.js';
import { callOptionsFor, finalError, interruptedError, requestFor, shouldFallBack, withCost, type CallPlan, type EngineCore } from './engine-core.js';
import type { ModelTarget } from './hooks.js';
import { responseToEvents } from './response-events.js';
import { isRetryableError, retryDelayMs } from './retry.js';
import type { CompletionResult, EngineStream } from './types.js';

type Result = IteratorResult<ModelStreamEvent>;

const DONE: Result = Object.freeze({ done: true, value: undefined }) as Result;

export interface StreamSettlement {
  response: ModelResponse;
  source: CompletionResult['source'];
  attempts: number;
}

/**
 * A streamed engine call, iterated once. It is its own async iterator: each `next()` forwards
 * the provider's `next()` with one `.then` (no other promise per event). While nothing has
 * reached the consumer, a failure is retried (with backoff) and then handed to the next
 * provider; a leading `stream-start` is held back until the first real event so that a
 * connection cut right after the headers can still be retried. Once output was delivered, a
 * failure is surfaced as `StreamInterruptedError` with the partial output, never replayed.
 */
export class ResilientStream implements EngineStream, AsyncIterableIterator<ModelStreamEvent> {
  readonly response: Promise<ModelResponse>;
  private resolveResponse!: (response: ModelResponse) => void;
  private rejectResponse!: (error: unknown) => void;

  private source: AsyncIterator<ModelStreamEvent> | undefined;
  private scope: AttemptScope | undefined;
  private lease: BreakerLease | undefined;
  private target!: ModelTarget;
  private providerIndex = 0;
  private retry = 0;
  private attempts = 0;
  private errors: unknown[] | undefined;
  private fromCache = false;

  private delivered = 0;
  private held: ModelStreamEvent | undefined;
  private queued: Result | undefined;
  private partialText = '';
  private readonly partialToolCalls: ToolCall[] = [];
  private closed = false;
  private settled = false;

  constructor(
    private readonly core: EngineCore,
    private readonly plan: CallPlan,
    private readonly onSettle: (outcome: StreamSettlement | { error: unknown; attempts: number }) => void,
  ) {
    this.response = new Promise<ModelResponse>((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
    // Nobody has to await `response`: a failure is reported through the iteration too.
    this.response.then(undefined, () => undefined);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<Result> {
    if (this.closed) return Promise.resolve(DONE);
    const queued = this.queued;
    if (queued !== undefined) {
      this.queued = undefined;
      return Promise.resolve(queued);
    }
    const source = this.source;
    if (source === undefined) return this.open().then(() => this.next(), this.onError);
    if (this.scope?.error !== undefined) return this.onError(this.scope.error);
    return source.next().then(this.onResult, this.onError);
  }

  async return(): Promise<Result> {
    if (this.closed) return DONE;
    const error = new AbortError(undefined, 'The stream was closed by its consumer');
    this.lease?.success();
    this.lease = undefined;
    this.scope?.cancel();
    this.scope = undefined;
    const source = this.source;
    this.source = undefined;
    this.closed = true;
    this.settle(undefined, error);
    try {
      await source?.return?.();
    } catch {
      // The provider failed to close its stream; it is dropped anyway.
    }
    return DONE;
  }

  private readonly onResult = (r: Result): Result | Promise<Result> => {
    if (r.done === true) {
      if (this.settled) return this.close();
      return this.onError(new StreamInterruptedError({ message: 'The stream ended without a finish event', ...this.target, partialText: this.partialText, partialToolCalls: this.partialToolCalls }));
    }
    const event = r.value;
    switch (event.type) {
      case 'stream-start':
        if (this.delivered === 0 && this.held === undefined) {
          this.held = event;
          return (this.source as AsyncIterator<ModelStreamEvent>).next().then(this.onResult, this.onError);
        }
        break;
      case 'text-delta':
        this.partialText += event.delta;
        break;
      case 'tool-call':
        this.partialToolCalls.push(event.toolCall);
        break;
      case 'finish': {
        const response = this.fromCache ? event.response : withCost(this.core, event.response);
        this.finish(response);
        if (response !== event.response) r = { done: false, value: { type: 'finish', response } };
        break;
      }
      default:
        break;
    }
    const held = this.held;
    if (held !== undefined) {
      this.held = undefined;
      this.queued = r;
      r = { done: false, value: held };
    }
    this.delivered++;
    return r;
  };

  private readonly onError = (thrown: unknown): Promise<Result> => {
    const error = this.scope?.mapError(thrown) ?? thrown;
    this.lease?.failure(error);
    this.lease = undefined;
    this.scope?.dispose();
    this.scope = undefined;
    this.source = undefined;
    if (this.settled) return this.close();
    if (this.delivered > 0) return this.fail(interruptedError(error, this.target, this.partialText, this.partialToolCalls));
    this.held = undefined;
    return this.recover(error);
  };

  /** Nothing was delivered: retry on the same provider, or move on to the next one, or give up. */
  private async recover(error: unknown): Promise<Result> {
    const plan = this.plan;
    const aborted = plan.signal?.aborted === true;
    if (!aborted && this.retry < plan.retry.maxRetries && isRetryableError(error)) {
      this.retry++;
      const delayMs = retryDelayMs({ retry: this.retry, error, retryOptions: plan.retry, random: this.core.internals.random });
      const hooks = this.core.hooks;
      if (hooks.has('retry')) hooks.emit('retry', { ...this.target, context: plan.context, attempt: this.retry, delayMs, error });
      try {
        await this.core.internals.sleep(delayMs, plan.signal);
      } catch (sleepError) {
        return this.fail(sleepError);
      }
      return this.next();
    }
    (this.errors ??= []).push(error);
    if (!aborted && shouldFallBack(error) && this.providerIndex + 1 < this.core.chain.length) {
      const from = this.target;
      this.providerIndex++;
      this.retry = 0;
      const hooks = this.core.hooks;
      if (hooks.has('fallback')) hooks.emit('fallback', { context: plan.context, from, to: requestFor(this.core, this.providerIndex, plan.request).target, error });
      return this.next();
    }
    return this.fail(finalError(this.errors));
  }

  /** Starts an attempt: the cache (first provider, first try), then the breaker, then the provider. */
  private async open(): Promise<void> {
    const plan = this.plan;
    const core = this.core;
    const { provider, request, target } = requestFor(core, this.providerIndex, plan.request);
    this.target = target;
    if (plan.signal?.aborted) throw new AbortError(plan.signal.reason);
    if (this.attempts === 0 && plan.cacheKey !== undefined && core.cache !== undefined) {
      const hit = await core.cache.get(plan.cacheKey);
      const event = { ...target, context: plan.context, key: plan.cacheKey };
      if (hit !== undefined) {
        core.hooks.emit('cache.hit', event);
        this.fromCache = true;
        this.scope = new AttemptScope({ signal: plan.signal, what: 'The cached stream' });
        this.source = toAsyncIterator(responseToEvents(hit));
        return;
      }
      core.hooks.emit('cache.miss', event);
    }
    const breaker = core.breakers?.get(target.provider, target.model);
    if (breaker !== undefined) this.lease = await breaker.acquire();
    this.attempts++;
    const scope = new AttemptScope({ signal: plan.signal, timeoutMs: plan.timeoutMs, what: `The stream from ${target.provider}:${target.model}` });
    this.scope = scope;
    this.source = provider.stream(request, callOptionsFor(plan, scope.signal))[Symbol.asyncIterator]();
  }

  private finish(response: ModelResponse): void {
    this.lease?.success();
    this.lease = undefined;
    this.scope?.dispose();
    const core = this.core;
    if (!this.fromCache && this.providerIndex === 0 && this.plan.cacheKey !== undefined && core.cache !== undefined && response.finishReason !== 'error') {
      try {
        void Promise.resolve(core.cache.set(this.plan.cacheKey, response, core.cacheTtlMs)).then(undefined, () => undefined);
      } catch {
        // A cache that fails to store never fails the call.
      }
    }
    this.settle(response, undefined);
  }

  private settle(response: ModelResponse | undefined, error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    if (response !== undefined) {
      this.resolveResponse(response);
      this.onSettle({ response, source: this.fromCache ? 'cache' : 'provider', attempts: this.attempts });
    } else {
      this.rejectResponse(error);
      this.onSettle({ error, attempts: this.attempts });
    }
  }

  private close(): Promise<Result> {
    this.closed = true;
    this.scope?.dispose();
    this.scope = undefined;
    this.source = undefined;
    return Promise.resolve(DONE);
  }

  private fail(error: unknown): Promise<Result> {
    this.closed = true;
    this.settle(undefined, error);
    return Promise.reject(error);
  }
}

function toAsyncIterator<E>(events: readonly E[]): AsyncIterator<E> {
  let i = 0;
  return {
    next: () => Promise.resolve(i < events.length ? { done: false, value: events[i++] as E } : { done: true, value: undefined }),
  };
}
