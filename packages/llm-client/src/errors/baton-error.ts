const MARKER = Symbol.for('baton.error');

export interface BatonErrorOptions {
  message: string;
  cause?: unknown;
  retryable?: boolean;
}

/**
 * Base class of every error Baton throws. `code` is stable across releases; `retryable` says
 * whether the same call may succeed if tried again. Use `BatonError.isInstance(e)` rather than
 * `instanceof`, which fails when two copies of the package are installed.
 */
export abstract class BatonError extends Error {
  private readonly [MARKER] = true;
  abstract readonly code: string;
  readonly retryable: boolean;

  constructor({ message, cause, retryable = false }: BatonErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    this.retryable = retryable;
  }

  static isInstance(error: unknown): error is BatonError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }

  /** A plain JSON form, safe for events and logs (no stack, no secrets). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message, retryable: this.retryable };
    for (const [k, v] of Object.entries(this)) {
      if (k === 'cause' || typeof v === 'function' || v === undefined) continue;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    }
    return out;
  }
}

/** Checks a `code` on any error-like value (Baton error or not). */
export function errorCode(error: unknown): string | undefined {
  return BatonError.isInstance(error) ? error.code : undefined;
}

export function isRetryable(error: unknown): boolean {
  return BatonError.isInstance(error) && error.retryable;
}
