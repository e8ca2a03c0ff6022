import { BatonError } from '../errors/baton-error.js';
import { CircuitOpenError } from '../errors/engine-errors.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { RetryOptions } from './types.js';

/** Retry options with every default applied. */
export interface ResolvedRetryOptions {
  readonly maxRetries: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: ResolvedRetryOptions = Object.freeze({ maxRetries: 2, initialDelayMs: 500, maxDelayMs: 30_000 });

export const NO_RETRY: ResolvedRetryOptions = Object.freeze({ maxRetries: 0, initialDelayMs: 0, maxDelayMs: 0 });

/** Applies defaults from `base` and validates; `false` turns retries off. */
export function resolveRetryOptions(options: RetryOptions | false | undefined, base: ResolvedRetryOptions = DEFAULT_RETRY, name = 'retry'): ResolvedRetryOptions {
  if (options === undefined) return base;
  if (options === false) return NO_RETRY;
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(name, 'must be an object or false');
  const resolved = {
    maxRetries: options.maxRetries ?? base.maxRetries,
    initialDelayMs: options.initialDelayMs ?? base.initialDelayMs,
    maxDelayMs: options.maxDelayMs ?? base.maxDelayMs,
  };
  if (!Number.isSafeInteger(resolved.maxRetries) || resolved.maxRetries < 0) {
    throw new InvalidArgumentError(`${name}.maxRetries`, `must be a non-negative integer, got ${resolved.maxRetries}`);
  }
  for (const key of ['initialDelayMs', 'maxDelayMs'] as const) {
    const v = resolved[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`${name}.${key}`, `must be a non-negative number of ms, got ${v}`);
  }
  return resolved;
}

/**
 * Whether an attempt that failed with `error` may be tried again on the same provider: Baton
 * errors flagged `retryable` (429, 5xx, 529, timeouts, connection resets, streams cut before
 * any output), except an open circuit, which moves on to the next provider instead.
 */
export function isRetryableError(error: unknown): boolean {
  return BatonError.isInstance(error) && error.retryable && !(error instanceof CircuitOpenError) && (error as { code: string }).code !== 'circuit_open';
}

/** The `retryAfterMs` a provider sent with `error`, if any. */
export function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const v = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * Delay before retry number `retry` (1-based): exponential backoff with full jitter,
 * `random() * min(maxDelayMs, initialDelayMs * 2^(retry-1))`. A provider's retry-after wins
 * when larger, capped at `maxDelayMs`.
 */
export function retryDelayMs(options: { retry: number; error: unknown; retryOptions: ResolvedRetryOptions; random: () => number }): number {
  const { retry, error, retryOptions, random } = options;
  const ceiling = Math.min(retryOptions.maxDelayMs, retryOptions.initialDelayMs * 2 ** (retry - 1));
  const jittered = Math.floor(random() * ceiling);
  const retryAfter = retryAfterOf(error);
  if (retryAfter === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfter, retryOptions.maxDelayMs));
}
