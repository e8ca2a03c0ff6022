import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  IsolatedCircuitError,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
  type IBreaker,
} from 'cockatiel';
import { CircuitOpenError } from '../errors/engine-errors.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { HookSink, BreakerEvent } from './hooks.js';
import { isRetryableError } from './retry.js';

export interface CircuitBreakerOptions {
  /** Opens after this many failures in a row (default 5). */
  consecutiveFailures?: number;
  /** Also opens when more than `threshold` (0..1) of the last `windowSize` calls failed (off by default). */
  failureRatio?: { threshold: number; windowSize: number; minimumCalls?: number };
  /** Cool-down before one trial call is let through (default 30 s). */
  halfOpenAfterMs?: number;
  /** Trial calls let through while half-open; all must succeed to close (default 1). */
  halfOpenCalls?: number;
}

export type CircuitBreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerHookEvents {
  'breaker.open': BreakerEvent;
  'breaker.half-open': BreakerEvent;
  'breaker.close': BreakerEvent;
}

/** A claim on one call through a breaker, settled by hand (a stream settles when it ends). */
export interface BreakerLease {
  success(): void;
  failure(error: unknown): void;
}

/** Counts a failure if either rule says so: consecutive failures, or the failure ratio of a sliding window. */
class EitherBreaker implements IBreaker {
  constructor(
    private readonly consecutive: ConsecutiveBreaker,
    private readonly ratio: CountBreaker | undefined,
  ) {}

  get state(): unknown {
    return { consecutive: this.consecutive.state, ratio: this.ratio?.state };
  }

  set state(value: unknown) {
    const v = value as { consecutive: number; ratio?: unknown };
    this.consecutive.state = v.consecutive;
    if (this.ratio !== undefined && v.ratio !== undefined) this.ratio.state = v.ratio;
  }

  success(state: CircuitState): void {
    this.consecutive.success();
    this.ratio?.success(state);
  }

  failure(state: CircuitState): boolean {
    const a = this.consecutive.failure();
    const b = this.ratio?.failure(state) ?? false;
    return a || b;
  }
}

/**
 * The circuit breaker of one provider+model, on cockatiel's `CircuitBreakerPolicy`: closed →
 * open after consecutive failures or a failure ratio → half-open after the cool-down → closed
 * when the trial calls succeed. Only failures that say something about the provider count
 * (retryable ones: 429, 5xx, timeouts, connection resets); a 400 or a caller's abort does not.
 * While open, and while the half-open trial is in flight, calls fail fast with `CircuitOpenError`.
 */
export class CircuitBreaker {
  readonly provider: string;
  readonly model: string;
  private readonly policy: CircuitBreakerPolicy;
  private readonly halfOpenCalls: number;
  private probes = 0;

  constructor(options: { provider: string; model: string; breaker?: CircuitBreakerOptions; hooks?: HookSink<BreakerHookEvents> }) {
    const o = validateBreakerOptions(options.breaker ?? {});
    this.provider = options.provider;
    this.model = options.model;
    this.halfOpenCalls = o.halfOpenCalls;
    const ratio = o.failureRatio
      ? new CountBreaker({ threshold: o.failureRatio.threshold, size: o.failureRatio.windowSize, minimumNumberOfCalls: o.failureRatio.minimumCalls ?? o.failureRatio.windowSize })
      : undefined;
    this.policy = circuitBreaker(
      handleWhen((e) => isRetryableError(e)),
      {
        breaker: new EitherBreaker(new ConsecutiveBreaker(o.consecutiveFailures), ratio),
        halfOpenAfter: o.halfOpenAfterMs,
        halfOpenSampling: { calls: o.halfOpenCalls, threshold: 0 },
      },
    );
    const hooks = options.hooks;
    if (hooks !== undefined) {
      const target = { provider: this.provider, model: this.model };
      this.policy.onBreak((reason) => hooks.emit('breaker.open', { ...target, error: 'error' in reason ? reason.error : undefined }));
      this.policy.onHalfOpen(() => hooks.emit('breaker.half-open', { ...target }));
      this.policy.onReset(() => hooks.emit('breaker.close', { ...target }));
    }
  }

  get state(): CircuitBreakerState {
    switch (this.policy.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      case CircuitState.Open:
      case CircuitState.Isolated:
        return 'open';
    }
  }

  /** Runs `fn` through the breaker; `CircuitOpenError` when it is open. */
  execute<T>(fn: () => Promise<T>): Promise<T> {
    if (this.policy.state === CircuitState.HalfOpen && this.probes >= this.halfOpenCalls) {
      return Promise.reject(this.mapError(new BrokenCircuitError()));
    }
    let started = false;
    const result = this.policy.execute(() => {
      started = true;
      return fn();
    });
    if (started && this.policy.state === CircuitState.HalfOpen) {
      this.probes++;
      return result.then(
        (v) => {
          this.probes--;
          return v;
        },
        (e: unknown) => {
          this.probes--;
          throw this.mapError(e);
        },
      );
    }
    return started ? result : result.catch((e: unknown) => Promise.reject(this.mapError(e)));
  }

  /** Takes a lease for a call settled later (a stream); rejects with `CircuitOpenError` when open. */
  acquire(): Promise<BreakerLease> {
    return new Promise<BreakerLease>((resolve, reject) => {
      let admitted = false;
      const run = this.execute(
        () =>
          new Promise<void>((settleOk, settleFail) => {
            admitted = true;
            let settled = false;
            resolve({
              success: () => {
                if (settled) return;
                settled = true;
                settleOk();
              },
              failure: (error) => {
                if (settled) return;
                settled = true;
                settleFail(error);
              },
            });
          }),
      );
      run.then(undefined, (e: unknown) => {
        if (!admitted) reject(e);
      });
    });
  }

  private mapError(error: unknown): unknown {
    if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
      // The cause is the failure that opened the circuit, which says more than cockatiel's own error.
      const last = this.policy.lastFailure;
      return new CircuitOpenError(this.provider, this.model, last !== undefined && 'error' in last ? last.error : error);
    }
    return error;
  }
}

/** One breaker per provider+model, created on first use. */
export class CircuitBreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(private readonly options: { breaker?: CircuitBreakerOptions; hooks?: HookSink<BreakerHookEvents> }) {
    validateBreakerOptions(options.breaker ?? {});
  }

  get(provider: string, model: string): CircuitBreaker {
    const key = `${provider}\u0000${model}`;
    let breaker = this.breakers.get(key);
    if (breaker === undefined) {
      breaker = new CircuitBreaker({ provider, model, ...this.options });
      this.breakers.set(key, breaker);
    }
    return breaker;
  }

  /** The state of every breaker created so far, keyed `provider:model`. */
  states(): Record<string, CircuitBreakerState> {
    const out: Record<string, CircuitBreakerState> = {};
    for (const b of this.breakers.values()) out[`${b.provider}:${b.model}`] = b.state;
    return out;
  }
}

function validateBreakerOptions(o: CircuitBreakerOptions) {
  const consecutiveFailures = o.consecutiveFailures ?? 5;
  const halfOpenAfterMs = o.halfOpenAfterMs ?? 30_000;
  const halfOpenCalls = o.halfOpenCalls ?? 1;
  if (!Number.isSafeInteger(consecutiveFailures) || consecutiveFailures < 1) {
    throw new InvalidArgumentError('breaker.consecutiveFailures', `must be a positive integer, got ${consecutiveFailures}`);
  }
  if (typeof halfOpenAfterMs !== 'number' || !Number.isFinite(halfOpenAfterMs) || halfOpenAfterMs < 0) {
    throw new InvalidArgumentError('breaker.halfOpenAfterMs', `must be a non-negative number of ms, got ${halfOpenAfterMs}`);
  }
  if (!Number.isSafeInteger(halfOpenCalls) || halfOpenCalls < 1) {
    throw new InvalidArgumentError('breaker.halfOpenCalls', `must be a positive integer, got ${halfOpenCalls}`);
  }
  const r = o.failureRatio;
  if (r !== undefined) {
    if (!(r.threshold > 0 && r.threshold < 1)) throw new InvalidArgumentError('breaker.failureRatio.threshold', `must be between 0 and 1 (exclusive), got ${r.threshold}`);
    if (!Number.isSafeInteger(r.windowSize) || r.windowSize < 1) throw new InvalidArgumentError('breaker.failureRatio.windowSize', `must be a positive integer, got ${r.windowSize}`);
    const min = r.minimumCalls ?? r.windowSize;
    if (!Number.isSafeInteger(min) || min < 1 || min > r.windowSize) {
      throw new InvalidArgumentError('breaker.failureRatio.minimumCalls', `must be an integer between 1 and windowSize, got ${min}`);
    }
  }
  return { consecutiveFailures, halfOpenAfterMs, halfOpenCalls, failureRatio: r };
}
