import { AbortError } from '../errors/engine-errors.js';
import { BatonError } from '../errors/baton-error.js';

/** The `AbortError` for a fired signal, keeping its reason. */
export function abortError(signal: AbortSignal): AbortError {
  const reason: unknown = signal.reason;
  if (BatonError.isInstance(reason) && reason.code === 'aborted') return reason as AbortError;
  const detail = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return new AbortError(reason, `The run was aborted${detail}`);
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

/**
 * Settles with `promise`, or rejects with `AbortError` as soon as `signal` fires, even when
 * the work behind `promise` ignores the signal (its late result is then dropped).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? abortError(signal) : error);
      },
    );
  });
}

/** Waits `ms`; rejects with `AbortError` at once when `signal` fires (the timer is cleared). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** True for errors that mean "the caller asked to stop": ours, the DOM's and Node's. */
export function isAbortLike(error: unknown): boolean {
  if (BatonError.isInstance(error)) return error.code === 'aborted';
  return error instanceof Error && error.name === 'AbortError';
}
