import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { InvalidArgumentError, StreamInterruptedError } from '../../errors/index.js';
import type { LanguageModel, ModelCallOptions, ModelRequest, ModelResponse, ModelStreamEvent } from '../../types/model.js';
import { abortErrorFrom } from '../shared/abort.js';
import { mapProviderError, redact, type MapErrorContext } from '../shared/map-error.js';
import { isHttpUrl } from '../shared/url.js';
import { toOpenAIParams } from './openai-request.js';
import { fromOpenAICompletion } from './openai-response.js';
import { OpenAIChunkMapper } from './openai-stream.js';

export interface OpenAIProviderOptions {
  /** Default: `OPENAI_API_KEY`. Required unless `client` is given. */
  apiKey?: string;
  /** Default: `OPENAI_BASE_URL`, else the OpenAI API. Any OpenAI-compatible server works. */
  baseURL?: string;
  organization?: string;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** A custom fetch (proxies, tests). */
  fetch?: typeof globalThis.fetch;
  /** An existing client; its retries are turned off (the engine retries). */
  client?: OpenAI;
  /** Default model id (default 'gpt-4o-mini'); a request's `model` wins. */
  model?: string;
  /** Provider name in responses, errors and pricing (default 'openai'). */
  name?: string;
}

const SDK_ERRORS = { APIError, APIUserAbortError, APIConnectionError, APIConnectionTimeoutError };

/** Chat Completions over the official `openai` client, with the SDK's own retries off. */
export class OpenAIProvider implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  private readonly client: OpenAI;
  private readonly apiKey: string | undefined;

  constructor(options: OpenAIProviderOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
    const { model = 'gpt-4o-mini', name = 'openai' } = options;
    if (typeof model !== 'string' || model === '') throw new InvalidArgumentError('model', 'must be a non-empty string');
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('name', 'must be a non-empty string');
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new InvalidArgumentError('fetch', 'must be a function');
    this.modelId = model;
    this.provider = name;
    if (options.client) {
      this.client = options.client.withOptions({ maxRetries: 0 });
      this.apiKey = this.client.apiKey ?? undefined;
      return;
    }
    const apiKey = options.apiKey ?? process.env['OPENAI_API_KEY'];
    if (typeof apiKey !== 'string' || apiKey === '') {
      throw new InvalidArgumentError('apiKey', 'missing: pass apiKey or set OPENAI_API_KEY (local OpenAI-compatible servers accept any non-empty key)');
    }
    const baseURL = options.baseURL ?? process.env['OPENAI_BASE_URL'];
    if (baseURL !== undefined && !isHttpUrl(baseURL)) throw new InvalidArgumentError('baseURL', `must be an http(s) URL, got '${redact(baseURL, [apiKey])}'`);
    this.apiKey = apiKey;
    this.client = new OpenAI({
      apiKey,
      maxRetries: 0,
      ...(baseURL !== undefined ? { baseURL } : {}),
      ...(options.organization !== undefined ? { organization: options.organization } : {}),
      ...(options.headers !== undefined ? { defaultHeaders: options.headers } : {}),
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    });
  }

  async complete(request: ModelRequest, options: ModelCallOptions = {}): Promise<ModelResponse> {
    const model = request.model ?? this.modelId;
    const ctx = this.errorContext(model, options.signal);
    try {
      const completion = await this.client.chat.completions.create(toOpenAIParams(request, model), this.requestOptions(options));
      return fromOpenAICompletion(completion, this.provider, model);
    } catch (error) {
      throw mapProviderError(error, ctx);
    }
  }

  async *stream(request: ModelRequest, options: ModelCallOptions = {}): AsyncGenerator<ModelStreamEvent, void, undefined> {
    const model = request.model ?? this.modelId;
    const ctx = this.errorContext(model, options.signal);
    const mapper = new OpenAIChunkMapper(this.provider);
    let responded = false;
    try {
      const params = { ...toOpenAIParams(request, model), stream: true as const, stream_options: { include_usage: true } };
      const stream = await this.client.chat.completions.create(params, this.requestOptions(options));
      responded = true;
      for await (const chunk of stream) yield* mapper.map(chunk);
    } catch (error) {
      throw mapProviderError(error, responded ? { ...ctx, partial: { text: mapper.acc.text, toolCalls: mapper.acc.partialToolCalls() } } : ctx);
    }
    // The SDK ends the iteration quietly when the request is aborted mid-stream.
    if (options.signal?.aborted) throw abortErrorFrom(options.signal);
    if (!mapper.sawFinish) {
      throw new StreamInterruptedError({
        provider: this.provider,
        model,
        message: `${this.provider} (${model}): stream ended before its finish reason after ${mapper.acc.text.length} characters`,
        partialText: mapper.acc.text,
        partialToolCalls: mapper.acc.partialToolCalls(),
      });
    }
    yield { type: 'finish', response: mapper.acc.response(this.provider, model) };
  }

  private requestOptions(options: ModelCallOptions) {
    return {
      maxRetries: 0,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.headers !== undefined ? { headers: options.headers } : {}),
    };
  }

  private errorContext(model: string, signal: AbortSignal | undefined): MapErrorContext {
    return { provider: this.provider, model, sdk: SDK_ERRORS, signal, timeoutMs: this.client.timeout, secrets: [this.apiKey] };
  }
}

/** Creates an `OpenAIProvider` (Chat Completions; `baseURL` for any OpenAI-compatible server). */
export function createOpenAI(options: OpenAIProviderOptions = {}): OpenAIProvider {
  return new OpenAIProvider(options);
}
