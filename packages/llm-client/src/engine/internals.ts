import { AbortError } from '../errors/engine-errors.js';

/** Clock, sleep and randomness, injectable for tests (`_internal`). */
export interface EngineInternals {
  /** Milliseconds from an arbitrary origin, for latencies and TTLs (default `performance.now()`). */
  now: () => number;
  /** Waits `ms`; rejects with `AbortError` when `signal` fires. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1), for backoff jitter. */
  random: () => number;
}

export const defaultInternals: EngineInternals = {
  now: () => performance.now(),
  sleep: abortableSleep,
  random: Math.random,
};

/** `setTimeout` as a promise that an `AbortSignal` cuts short; leaves no timer or listener behind. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
