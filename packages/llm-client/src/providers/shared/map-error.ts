import {
  AbortError,
  AuthenticationError,
  BatonError,
  InvalidRequestError,
  ProviderConnectionError,
  ProviderError,
  ProviderOverloadedError,
  ProviderServerError,
  RateLimitError,
  StreamInterruptedError,
  TimeoutError,
  type ProviderErrorInit,
} from '../../errors/index.js';
import type { ToolCall } from '../../types/messages.js';
import { abortErrorFrom } from './abort.js';
import { parseRetryAfterMs, type HeaderReader } from './retry-after.js';

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes of one vendor SDK (`openai` or `@anthropic-ai/sdk`), which share a shape. */
export interface SdkErrorClasses {
  APIError: ErrorClass;
  APIUserAbortError: ErrorClass;
  APIConnectionError: ErrorClass;
  APIConnectionTimeoutError: ErrorClass;
}

export interface MapErrorContext {
  provider: string;
  model: string;
  sdk: SdkErrorClasses;
  signal?: AbortSignal | undefined;
  /** The SDK client's request timeout, reported on `TimeoutError`. */
  timeoutMs?: number | undefined;
  /** Strings that must never appear in an error message (the API key). */
  secrets?: ReadonlyArray<string | undefined>;
  /** Set once a stream has started: what had arrived before the failure. */
  partial?: { text: string; toolCalls: ToolCall[] } | undefined;
}

interface SdkApiError extends Error {
  status?: number | undefined;
  headers?: HeaderReader | undefined;
  requestID?: string | null | undefined;
  type?: string | null | undefined;
  error?: unknown;
}

/**
 * Maps whatever an SDK call threw onto Baton's typed errors: HTTP status (429, 503/529, 5xx,
 * 401/403, 400/404/422), abort, timeout, connection failure, and a stream cut mid-way (the SDKs
 * throw an untyped error there) to a retryable `StreamInterruptedError` with the partial output.
 */
export function mapProviderError(error: unknown, ctx: MapErrorContext): Error {
  if (BatonError.isInstance(error)) return error;
  if (ctx.signal?.aborted) return abortErrorFrom(ctx.signal);
  const { sdk } = ctx;
  if (error instanceof sdk.APIUserAbortError) return new AbortError(error, 'The model call was aborted');
  const base = { provider: ctx.provider, model: ctx.model, cause: error };
  const message = (text: string): string => redact(`${ctx.provider} (${ctx.model}): ${text}`, ctx.secrets);

  if (error instanceof sdk.APIConnectionTimeoutError) {
    return new TimeoutError(ctx.timeoutMs ?? 0, `${ctx.provider} (${ctx.model}) request`, error);
  }
  if (error instanceof sdk.APIConnectionError) {
    if (ctx.partial) return interrupted(error, ctx, message);
    return new ProviderConnectionError({ ...base, message: message(error.message) });
  }
  if (error instanceof sdk.APIError) {
    const e = error as SdkApiError;
    const init: ProviderErrorInit = {
      ...base,
      message: message(e.message),
      status: e.status,
      requestId: e.requestID ?? e.headers?.get('x-request-id') ?? e.headers?.get('request-id') ?? undefined,
      retryAfterMs: parseRetryAfterMs(e.headers),
    };
    return e.status !== undefined ? byStatus(e.status, init) : byType(errorType(e), init);
  }
  if (ctx.partial) return interrupted(error, ctx, message);
  const text = error instanceof Error ? error.message : String(error);
  return new ProviderError({ ...base, message: message(text) });
}

function byStatus(status: number, init: ProviderErrorInit): ProviderError {
  if (status === 429) return new RateLimitError(init);
  if (status === 503 || status === 529) return new ProviderOverloadedError(init);
  if (status >= 500) return new ProviderServerError(init);
  if (status === 401 || status === 403) return new AuthenticationError(init);
  if (status === 400 || status === 404 || status === 413 || status === 422) return new InvalidRequestError(init);
  return new ProviderError(init);
}

/** An error event inside a stream carries no status, only the body's type. */
function byType(type: string | undefined, init: ProviderErrorInit): ProviderError {
  switch (type) {
    case 'overloaded_error':
      return new ProviderOverloadedError(init);
    case 'rate_limit_error':
    case 'rate_limit_exceeded':
    case 'requests':
    case 'tokens':
      return new RateLimitError(init);
    case 'authentication_error':
    case 'permission_error':
      return new AuthenticationError(init);
    case 'invalid_request_error':
    case 'not_found_error':
      return new InvalidRequestError(init);
    default:
      return new ProviderServerError(init);
  }
}

function errorType(e: SdkApiError): string | undefined {
  if (typeof e.type === 'string') return e.type;
  const body = e.error as { type?: unknown; error?: { type?: unknown } } | undefined;
  const nested = body?.error?.type ?? body?.type;
  return typeof nested === 'string' ? nested : undefined;
}

function interrupted(error: unknown, ctx: MapErrorContext, message: (t: string) => string): StreamInterruptedError {
  const detail = error instanceof Error ? error.message : String(error);
  const partial = ctx.partial ?? { text: '', toolCalls: [] };
  return new StreamInterruptedError({
    provider: ctx.provider,
    model: ctx.model,
    cause: error,
    message: message(`stream interrupted after ${partial.text.length} characters (${detail})`),
    partialText: partial.text,
    partialToolCalls: partial.toolCalls,
  });
}

const KEY_LIKE = /\b(sk-[A-Za-z0-9_-]{6,}|sk-ant-[A-Za-z0-9_-]{6,})/g;

/** Removes the given secrets and anything shaped like an API key. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out.replace(KEY_LIKE, '[redacted]');
}
