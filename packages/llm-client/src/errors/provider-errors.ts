import { BatonError } from './baton-error.js';

export interface ProviderErrorInit {
  message: string;
  provider: string;
  model?: string | undefined;
  status?: number | undefined;
  requestId?: string | undefined;
  cause?: unknown;
  retryable?: boolean;
  /** Milliseconds the provider asked us to wait (from `retry-after` / `retry-after-ms`). */
  retryAfterMs?: number | undefined;
}

/** Any failure reported by (or while talking to) a model provider. */
export class ProviderError extends BatonError {
  override readonly name: string = 'ProviderError';
  readonly code: string = 'provider_error';
  readonly provider: string;
  readonly model: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(init: ProviderErrorInit) {
    super({ message: init.message, cause: init.cause, retryable: init.retryable ?? isRetryableStatus(init.status) });
    this.provider = init.provider;
    this.model = init.model;
    this.status = init.status;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** 408, 409, 429 and 5xx are worth retrying; other 4xx are not. */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** HTTP 429: too many requests or tokens. */
export class RateLimitError extends ProviderError {
  override readonly name = 'RateLimitError';
  override readonly code = 'rate_limited';
  constructor(init: Omit<ProviderErrorInit, 'retryable'>) {
    super({ ...init, status: init.status ?? 429, retryable: true });
  }
}

/** HTTP 529 (Anthropic) or 503: the provider is overloaded. */
export class ProviderOverloadedError extends ProviderError {
  override readonly name = 'ProviderOverloadedError';
  override readonly code = 'provider_overloaded';
  constructor(init: Omit<ProviderErrorInit, 'retryable'>) {
    super({ ...init, retryable: true });
  }
}

/** Any other 5xx answer. */
export class ProviderServerError extends ProviderError {
  override readonly name = 'ProviderServerError';
  override readonly code = 'provider_server_error';
  constructor(init: Omit<ProviderErrorInit, 'retryable'>) {
    super({ ...init, retryable: true });
  }
}

/** 401/403: the key is missing, wrong or lacks permission. Never retried. */
export class AuthenticationError extends ProviderError {
  override readonly name = 'AuthenticationError';
  override readonly code = 'authentication_failed';
  constructor(init: Omit<ProviderErrorInit, 'retryable'>) {
    super({ ...init, retryable: false });
  }
}

/** 400/404/422: the provider rejected the request itself. Never retried. */
export class InvalidRequestError extends ProviderError {
  override readonly name = 'InvalidRequestError';
  override readonly code = 'invalid_request';
  constructor(init: Omit<ProviderErrorInit, 'retryable'>) {
    super({ ...init, retryable: false });
  }
}

/** The connection failed or was reset before an answer arrived. */
export class ProviderConnectionError extends ProviderError {
  override readonly name = 'ProviderConnectionError';
  override readonly code = 'connection_error';
  constructor(init: Omit<ProviderErrorInit, 'retryable'>) {
    super({ ...init, retryable: true });
  }
}

/**
 * A stream ended before its final event (connection cut mid-way). Carries what had arrived, so
 * a caller can keep the partial text; retryable.
 */
export class StreamInterruptedError extends ProviderError {
  override readonly name = 'StreamInterruptedError';
  override readonly code = 'stream_interrupted';
  readonly partialText: string;
  readonly partialToolCalls: ReadonlyArray<{ id: string; name: string; arguments: string }>;
  constructor(
    init: Omit<ProviderErrorInit, 'retryable'> & {
      partialText: string;
      partialToolCalls?: ReadonlyArray<{ id: string; name: string; arguments: string }>;
    },
  ) {
    super({ ...init, retryable: true });
    this.partialText = init.partialText;
    this.partialToolCalls = init.partialToolCalls ?? [];
  }
}
