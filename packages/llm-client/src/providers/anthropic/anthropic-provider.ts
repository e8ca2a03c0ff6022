import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { InvalidArgumentError, StreamInterruptedError } from '../../errors/index.js';
import type { LanguageModel, ModelCallOptions, ModelRequest, ModelResponse, ModelStreamEvent } from '../../types/model.js';
import { abortErrorFrom } from '../shared/abort.js';
import { mapProviderError, redact, type MapErrorContext } from '../shared/map-error.js';
import { isHttpUrl } from '../shared/url.js';
import { toAnthropicParams } from './anthropic-request.js';
import { fromAnthropicMessage } from './anthropic-response.js';
import { AnthropicEventMapper } from './anthropic-stream.js';

export interface AnthropicProviderOptions {
  /** Default: `ANTHROPIC_API_KEY`. Required unless `client` is given. */
  apiKey?: string;
  /** Default: `ANTHROPIC_BASE_URL`, else the Anthropic API. */
  baseURL?: string;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** A custom fetch (proxies, tests). */
  fetch?: typeof globalThis.fetch;
  /** An existing client; its retries are turned off (the engine retries). */
  client?: Anthropic;
  /** Default model id (default 'claude-sonnet-4-6'); a request's `model` wins. */
  model?: string;
  /** `max_tokens` when a request sets no `maxTokens` (the API requires one; default 4096). */
  defaultMaxTokens?: number;
  /** Provider name in responses, errors and pricing (default 'anthropic'). */
  name?: string;
}

const SDK_ERRORS = { APIError, APIUserAbortError, APIConnectionError, APIConnectionTimeoutError };

/** The Messages API over the official `@anthropic-ai/sdk` client, with the SDK's own retries off. */
export class AnthropicProvider implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  private readonly client: Anthropic;
  private readonly apiKey: string | undefined;
  private readonly defaultMaxTokens: number;

  constructor(options: AnthropicProviderOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
    const { model = 'claude-sonnet-4-6', name = 'anthropic', defaultMaxTokens = 4096 } = options;
    if (typeof model !== 'string' || model === '') throw new InvalidArgumentError('model', 'must be a non-empty string');
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('name', 'must be a non-empty string');
    if (!Number.isInteger(defaultMaxTokens) || defaultMaxTokens < 1) throw new InvalidArgumentError('defaultMaxTokens', 'must be a positive integer');
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new InvalidArgumentError('fetch', 'must be a function');
    this.modelId = model;
    this.provider = name;
    this.defaultMaxTokens = defaultMaxTokens;
    if (options.client) {
      this.client = options.client.withOptions({ maxRetries: 0 });
      this.apiKey = this.client.apiKey ?? undefined;
      return;
    }
    const apiKey = options.apiKey ?? process.env['ANTHROPIC_API_KEY'];
    if (typeof apiKey !== 'string' || apiKey === '') throw new InvalidArgumentError('apiKey', 'missing: pass apiKey or set ANTHROPIC_API_KEY');
    const baseURL = options.baseURL ?? process.env['ANTHROPIC_BASE_URL'];
    if (baseURL !== undefined && !isHttpUrl(baseURL)) throw new InvalidArgumentError('baseURL', `must be an http(s) URL, got '${redact(baseURL, [apiKey])}'`);
    this.apiKey = apiKey;
    this.client = new Anthropic({
      apiKey,
      maxRetries: 0,
      ...(baseURL !== undefined ? { baseURL } : {}),
      ...(options.headers !== undefined ? { defaultHeaders: options.headers } : {}),
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    });
  }

  async complete(request: ModelRequest, options: ModelCallOptions = {}): Promise<ModelResponse> {
    const model = request.model ?? this.modelId;
    const ctx = this.errorContext(model, options.signal);
    try {
      const message = await this.client.messages.create(toAnthropicParams(request, model, this.defaultMaxTokens), this.requestOptions(options));
      return fromAnthropicMessage(message, this.provider, model);
    } catch (error) {
      throw mapProviderError(error, ctx);
    }
  }

  async *stream(request: ModelRequest, options: ModelCallOptions = {}): AsyncGenerator<ModelStreamEvent, void, undefined> {
    const model = request.model ?? this.modelId;
    const ctx = this.errorContext(model, options.signal);
    const mapper = new AnthropicEventMapper(this.provider);
    let responded = false;
    try {
      const params = { ...toAnthropicParams(request, model, this.defaultMaxTokens), stream: true as const };
      const stream = await this.client.messages.create(params, this.requestOptions(options));
      responded = true;
      for await (const event of stream) yield* mapper.map(event);
    } catch (error) {
      throw mapProviderError(error, responded ? { ...ctx, partial: { text: mapper.acc.text, toolCalls: mapper.acc.partialToolCalls() } } : ctx);
    }
    // The SDK ends the iteration quietly when the request is aborted mid-stream.
    if (options.signal?.aborted) throw abortErrorFrom(options.signal);
    if (!mapper.sawStop) {
      throw new StreamInterruptedError({
        provider: this.provider,
        model,
        message: `${this.provider} (${model}): stream ended before message_stop after ${mapper.acc.text.length} characters`,
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

/** Creates an `AnthropicProvider` (Messages API). */
export function createAnthropic(options: AnthropicProviderOptions = {}): AnthropicProvider {
  return new AnthropicProvider(options);
}
