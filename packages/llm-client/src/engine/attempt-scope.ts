import { AbortError, TimeoutError } from '../errors/engine-errors.js';

/**
 * The scopes in flight per caller signal, behind one 'abort' listener per signal: a job's signal
 * sees a model call per step, and adding then removing a listener on it for each one costs more
 * than the call's own bookkeeping. The listener stays until the signal aborts (or is collected
 * with it).
 */
const watching = new WeakMap<AbortSignal, Set<AttemptScope>>();

function watch(signal: AbortSignal, scope: AttemptScope): void {
  let scopes = watching.get(signal);
  if (!scopes) {
    const set = new Set<AttemptScope>();
    scopes = set;
    watching.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        watching.delete(signal);
        for (const s of [...set]) s.callerAborted();
      },
      { once: true },
    );
  }
  scopes.add(scope);
}

function unwatch(signal: AbortSignal, scope: AttemptScope): void {
  watching.get(signal)?.delete(scope);
}

/**
 * The cancellation of one provider attempt: one `AbortController` fired by the caller's signal
 * or by the attempt's timeout, whichever comes first (no `AbortSignal.any`, no leaked timer or
 * listener once `dispose()` ran). Errors raised after it fired are reported as `AbortError`
 * (caller) or `TimeoutError` (timeout), whatever the provider threw.
 */
export class AttemptScope {
  private readonly controller = new AbortController();
  private readonly callerSignal: AbortSignal | undefined;
  private readonly timeoutMs: number | undefined;
  private readonly what: string;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failure: Error | undefined;
  private rejectRace: ((error: unknown) => void) | undefined;
  private listening = false;

  constructor(options: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined; what: string }) {
    this.callerSignal = options.signal;
    this.timeoutMs = options.timeoutMs;
    this.what = options.what;
    if (this.callerSignal !== undefined) {
      if (this.callerSignal.aborted) this.callerAborted();
      else {
        watch(this.callerSignal, this);
        this.listening = true;
      }
    }
    if (this.failure === undefined && this.timeoutMs !== undefined) {
      this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    }
  }

  /** The signal to hand to the provider. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Set once the caller aborted or the timeout fired. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Maps an error thrown during the attempt: after a cancellation, the cancellation wins. */
  mapError(error: unknown): unknown {
    return this.failure ?? error;
  }

  /** Settles with `promise`, or rejects at once when the scope fires (even if the provider ignores its signal). */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.failure !== undefined) {
      promise.then(undefined, () => undefined);
      return Promise.reject(this.failure);
    }
    return new Promise<T>((resolve, reject) => {
      this.rejectRace = reject;
      promise.then(resolve, (error: unknown) => reject(this.mapError(error)));
    });
  }

  /** Stops the timer and removes the listener on the caller's signal. Idempotent. */
  dispose(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.listening) {
      this.listening = false;
      if (this.callerSignal) unwatch(this.callerSignal, this);
    }
    this.rejectRace = undefined;
  }

  /** Aborts the underlying request without reporting an error (the consumer stopped reading). */
  cancel(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new AbortError(undefined, 'The stream was closed by its consumer'));
    this.dispose();
  }

  /** The caller's signal aborted (called once per scope watching it). */
  callerAborted(): void {
    this.listening = false;
    this.fire(new AbortError(this.callerSignal?.reason));
  }

  private readonly onTimeout = (): void => {
    this.timer = undefined;
    this.fire(new TimeoutError(this.timeoutMs ?? 0, this.what));
  };

  private fire(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.controller.abort(error);
    this.rejectRace?.(error);
  }
}
