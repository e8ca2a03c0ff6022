import type { FinishReason, Message, ToolCall, Usage } from './messages.js';
import type { RequestContext } from './request-context.js';
import type { Cost } from './pricing.js';

/** A JSON Schema object (as produced by `z.toJSONSchema`). */
export type JsonSchema = Record<string, unknown>;

/** A tool as the model sees it. */
export interface ToolDefinition {
  name: string;
  description?: string;
  parameters: JsonSchema;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'tool'; name: string };

/** What is sent to a model: one shape for every provider. */
export interface ModelRequest {
  /** Model id; the provider's default model when absent. */
  model?: string;
  messages: Message[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  /** Ask for JSON output (with a schema when the provider supports it). */
  responseFormat?: { type: 'json'; schema?: JsonSchema; name?: string };
  /** Vendor-only settings, namespaced by provider: `{ openai: { ... }, anthropic: { ... } }`. */
  providerOptions?: Record<string, Record<string, unknown>>;
}

/** The complete answer of one model call. */
export interface ModelResponse {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  provider: string;
  model: string;
  /** The provider's id for the response, when it sends one. */
  responseId?: string;
  /** Cost of the call, filled in by the engine from its price table. */
  cost?: Cost;
}

/** One event of a streamed model call. Noun-action names; handle with an exhaustive switch. */
export type ModelStreamEvent =
  | { type: 'stream-start'; provider: string; model: string; responseId?: string }
  | { type: 'text-delta'; delta: string }
  | { type: 'tool-call-start'; toolCallId: string; toolName: string; index: number }
  | { type: 'tool-call-delta'; toolCallId: string; argumentsDelta: string; index: number }
  | { type: 'tool-call'; toolCall: ToolCall }
  | { type: 'finish'; response: ModelResponse };

export interface ModelCallOptions {
  /** Aborts the HTTP request (or scripted answer) when fired. */
  signal?: AbortSignal;
  /** Extra HTTP headers; the engine adds `Idempotency-Key` here. */
  headers?: Record<string, string>;
  context?: RequestContext;
}

/**
 * A language model behind some provider. Implementations: `OpenAIProvider`,
 * `AnthropicProvider`, `ScriptedProvider`, or your own.
 */
export interface LanguageModel {
  readonly specificationVersion: 'v1';
  /** Provider name, e.g. 'openai', 'anthropic', 'scripted'. */
  readonly provider: string;
  /** Default model id, used when a request names none. */
  readonly modelId: string;
  complete(request: ModelRequest, options?: ModelCallOptions): Promise<ModelResponse>;
  /** Streams events; the last one is always `finish`. Throws (typed) on failure. */
  stream(request: ModelRequest, options?: ModelCallOptions): AsyncIterable<ModelStreamEvent>;
}
