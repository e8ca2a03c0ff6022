import type { ZodType } from 'zod';
import type { LanguageModel, ModelRequest, ModelResponse, ModelStreamEvent } from '../types/model.js';
import type { RequestContext } from '../types/request-context.js';

/** What `ExecutionEngine.complete/stream` take: a model request, optionally with an output schema. */
export interface CompletionSpec<O = unknown> extends ModelRequest {
  /** Structured output: the answer is parsed as JSON and validated; `result.object` is typed. */
  output?: ZodType<O>;
}

export interface CompletionResult<O = unknown> extends ModelResponse {
  /** The validated object when `output` was given. */
  object: O;
  /** How the result was obtained. */
  source: 'provider' | 'cache' | 'idempotency-hit' | 'idempotency-join';
  /** Provider attempts made (1 when the first try succeeded; 0 from cache or idempotency). */
  attempts: number;
  latencyMs: number;
}

export interface RetryOptions {
  /** Retries after the first attempt (default 2). */
  maxRetries?: number;
  /** First backoff (default 500 ms); doubles each retry, with full jitter. */
  initialDelayMs?: number;
  /** Cap on one backoff (default 30 s). A provider's retry-after wins when larger, up to this cap. */
  maxDelayMs?: number;
}

export interface EngineCallOptions {
  context?: RequestContext;
  /** Joins an identical call in flight and returns a completed one's result (within the TTL). */
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  /** Overrides the engine's retry options for this call; `false` disables retries. */
  retry?: RetryOptions | false;
  /** Read/write the response cache for this call (default: the engine's `cache` setting). */
  cache?: boolean;
}

/**
 * A streamed engine call: iterate for events; `response` settles with the final answer once
 * the stream has been read to its `finish` event (it does not read the stream by itself), and
 * rejects when the stream fails or its consumer stops early (`AbortError`). Iterate it once.
 */
export interface EngineStream extends AsyncIterable<ModelStreamEvent> {
  readonly response: Promise<ModelResponse>;
}

/** What an agent needs from an engine. `ExecutionEngine` implements it. */
export interface ModelExecutor {
  complete<O = unknown>(spec: CompletionSpec<O>, options?: EngineCallOptions): Promise<CompletionResult<O>>;
  stream(spec: ModelRequest, options?: EngineCallOptions): EngineStream;
  /** The primary model, for budget and policy checks. */
  readonly model: LanguageModel;
}
