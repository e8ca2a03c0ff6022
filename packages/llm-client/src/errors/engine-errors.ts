import { BatonError } from './baton-error.js';

/** A call took longer than its `timeoutMs`. Retryable. */
export class TimeoutError extends BatonError {
  override readonly name = 'TimeoutError';
  readonly code = 'timeout';
  readonly timeoutMs: number;
  constructor(timeoutMs: number, what = 'The call', cause?: unknown) {
    super({ message: `${what} timed out after ${timeoutMs} ms`, retryable: true, cause });
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's `AbortSignal` fired. Not retryable: the caller asked to stop. */
export class AbortError extends BatonError {
  override readonly name = 'AbortError';
  readonly code = 'aborted';
  readonly reason: unknown;
  constructor(reason?: unknown, message = 'The operation was aborted') {
    super({ message, retryable: false, cause: reason });
    this.reason = reason;
  }
}

/** The circuit breaker for a provider+model is open; calls fail fast until it half-opens. */
export class CircuitOpenError extends BatonError {
  override readonly name = 'CircuitOpenError';
  readonly code = 'circuit_open';
  readonly provider: string;
  readonly model: string;
  constructor(provider: string, model: string, cause?: unknown) {
    super({ message: `Circuit breaker open for ${provider}:${model}`, retryable: true, cause });
    this.provider = provider;
    this.model = model;
  }
}

/** The same idempotency key was used with a different request body. */
export class IdempotencyConflictError extends BatonError {
  override readonly name = 'IdempotencyConflictError';
  readonly code = 'idempotency_conflict';
  readonly idempotencyKey: string;
  constructor(idempotencyKey: string) {
    super({ message: `Idempotency key '${idempotencyKey}' was already used with a different request`, retryable: false });
    this.idempotencyKey = idempotencyKey;
  }
}

/** Every provider (primary and fallbacks) failed; `errors` holds each failure in order. */
export class AllProvidersFailedError extends BatonError {
  override readonly name = 'AllProvidersFailedError';
  readonly code = 'all_providers_failed';
  readonly errors: readonly unknown[];
  constructor(errors: readonly unknown[]) {
    const last = errors[errors.length - 1];
    super({
      message: `All ${errors.length} provider attempt(s) failed; last: ${last instanceof Error ? last.message : String(last)}`,
      retryable: errors.some((e) => BatonError.isInstance(e) && e.retryable),
      cause: last,
    });
    this.errors = errors;
  }
}

/** Structured output did not parse or did not match its schema. */
export class OutputValidationError extends BatonError {
  override readonly name = 'OutputValidationError';
  readonly code = 'output_validation_failed';
  readonly text: string;
  readonly issues: unknown;
  constructor(text: string, issues: unknown, cause?: unknown) {
    super({ message: `Model output did not match the requested schema: ${summarizeIssues(issues)}`, retryable: false, cause });
    this.text = text;
    this.issues = issues;
  }
}

function summarizeIssues(issues: unknown): string {
  if (Array.isArray(issues)) {
    return issues
      .slice(0, 3)
      .map((i: { path?: unknown[]; message?: string }) => `${(i.path ?? []).join('.') || '(root)'}: ${i.message ?? 'invalid'}`)
      .join('; ');
  }
  return String(issues);
}
