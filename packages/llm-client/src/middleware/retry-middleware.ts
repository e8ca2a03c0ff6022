import { BatonError } from '../errors/baton-error.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { abortableSleep } from '../agent/abort.js';
import type { AgentMiddleware, ToolCallContext } from '../agent/types.js';

export interface ToolRetryOptions {
  /** Retries after the first attempt (default 2). */
  maxRetries?: number;
  /** First backoff (default 200 ms); doubles each retry, with full jitter. */
  initialDelayMs?: number;
  /** Cap on one backoff (default 5,000 ms). */
  maxDelayMs?: number;
  /** Which failed calls to retry (default: the error, or the error a tool threw, is `retryable`). */
  shouldRetry?: (error: unknown, ctx: ToolCallContext) => boolean;
  /** Called before each backoff. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown; ctx: ToolCallContext }) => void;
  /** Random source in [0, 1) for the jitter (default `Math.random`). */
  random?: () => number;
}

/**
 * Retries tool calls that failed with a retryable error (a `TimeoutError`, a tool throwing a
 * `RateLimitError`, ...), with exponential backoff and full jitter; each attempt keeps the
 * call's `idempotencyKey`. A tool whose `metadata.retry` is `false` is never retried. Model
 * calls are not retried here: the engine retries them.
 */
export function retryMiddleware(options: ToolRetryOptions = {}): AgentMiddleware {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
  const maxRetries = count(options.maxRetries, 2, 'maxRetries');
  const initialDelayMs = count(options.initialDelayMs, 200, 'initialDelayMs');
  const maxDelayMs = count(options.maxDelayMs, 5_000, 'maxDelayMs');
  const shouldRetry = options.shouldRetry ?? defaultShouldRetry;
  const random = options.random ?? Math.random;
  const onRetry = options.onRetry;
  if (maxRetries === 0) return { name: 'retry' };

  return {
    name: 'retry',
    async tool(ctx, next) {
      if (ctx.tool.metadata.retry === false) return next(ctx);
      for (let attempt = 1; ; attempt++) {
        const result = await next(ctx);
        if (result.type !== 'error' || attempt > maxRetries || ctx.signal.aborted || !shouldRetry(result.error, ctx)) return result;
        const delayMs = Math.floor(random() * Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1)));
        onRetry?.({ attempt, delayMs, error: result.error, ctx });
        await abortableSleep(delayMs, ctx.signal);
      }
    },
  };
}

/** Retryable when the error says so, or when the error a tool threw (its `cause`) does. */
export function defaultShouldRetry(error: unknown): boolean {
  if (BatonError.isInstance(error)) {
    if (error.retryable) return true;
    const cause = (error as { cause?: unknown }).cause;
    return BatonError.isInstance(cause) && cause.retryable;
  }
  return false;
}

function count(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new InvalidArgumentError(name, `must be a finite number >= 0, got ${String(value)}`);
  return value;
}
