/** A tool call the wire server answers with; `arguments` as an object or raw JSON text. */
export interface WireToolCall {
  id?: string;
  name: string;
  arguments: Record<string, unknown> | string;
}

export interface WireUsage {
  /** All input tokens, cached ones included (default 10). */
  inputTokens?: number;
  /** Default: ceil(chars / 4) of the text and tool calls. */
  outputTokens?: number;
  /** Input tokens read from the prompt cache (default 0). */
  cachedInputTokens?: number;
}

/** A model answer, written in the wire format of the endpoint that was called. */
export interface WireAnswer {
  type?: 'answer';
  /** Response id (default `chatcmpl-wire-<n>` / `msg_wire_<n>`). */
  id?: string;
  /** Model echoed in the response (default: the request's model). */
  model?: string;
  text?: string;
  /** The streamed text deltas (default: `text` split into word-ish tokens). */
  textChunks?: string[];
  toolCalls?: WireToolCall[];
  /** Characters per streamed argument fragment (default 6). */
  argumentsChunkSize?: number;
  /**
   * The provider's own stop reason, written verbatim (OpenAI `finish_reason`, Anthropic
   * `stop_reason`). Default: tool calls -> 'tool_calls' / 'tool_use', else 'stop' / 'end_turn'.
   */
  stopReason?: string;
  /** Anthropic `stop_sequence` (with stopReason 'stop_sequence'). */
  stopSequence?: string;
  usage?: WireUsage;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Wait before sending the response headers. */
  delayMs?: number;
  /** Streaming: wait between two SSE events. */
  chunkDelayMs?: number;
  /** Streaming: destroy the socket after this many SSE events (a connection cut mid-stream). */
  cutAfterChunks?: number;
  /** Streaming: stop after this many SSE events and keep the connection open until the client leaves. */
  hangAfterChunks?: number;
  /** Streaming: send an SSE error event after this many events, then end the stream. */
  streamError?: { afterChunks: number; type?: string; message?: string };
}

/** An HTTP error with the provider's real error body. */
export interface WireError {
  type: 'error';
  status: number;
  message?: string;
  /** Error type in the body (default by status, e.g. 'rate_limit_error', 'overloaded_error'). */
  errorType?: string;
  /** OpenAI `error.code` (default by status, e.g. 'rate_limit_exceeded'). */
  code?: string | null;
  /** e.g. `{ 'retry-after': '2' }` or `{ 'retry-after-ms': '150' }`. */
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Accept the request and never answer, until the client closes the connection. */
export interface WireHang {
  type: 'hang';
}

/** Anything else, verbatim. */
export interface WireRaw {
  type: 'raw';
  status?: number;
  headers?: Record<string, string>;
  body: string;
}

export type WireResponse = WireAnswer | WireError | WireHang | WireRaw;

export type WireFormat = 'openai' | 'anthropic';

/** One request the wire server received. */
export interface WireRequest {
  /** 0-based, in arrival order. */
  index: number;
  method: string;
  path: string;
  format: WireFormat | undefined;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The parsed JSON body (the raw text when it is not JSON). */
  body: any;
  /** The request asked for a stream (`"stream": true`). */
  stream: boolean;
  /** The client closed the connection before the response was complete. */
  closedEarly: boolean;
  /** The server cut the connection on purpose (`cutAfterChunks`). */
  cutByServer: boolean;
  /** Settles when the exchange is over (response complete, or connection closed). */
  readonly settled: Promise<void>;
}

/** Computes the response to a request (used when the queue is empty). */
export type WireHandler = (request: WireRequest) => WireResponse | Promise<WireResponse>;
