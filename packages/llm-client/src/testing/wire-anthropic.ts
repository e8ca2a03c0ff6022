import { tokenizeText } from '../providers/scripted/tokenize.js';
import type { WireAnswer, WireError, WireRequest } from './wire-types.js';
import { argumentsObject, argumentsText, chunkString, outputTokens } from './wire-shared.js';

/** Anthropic Messages wire format: JSON bodies, SSE events and error bodies. */

function stopReason(answer: WireAnswer): string {
  return answer.stopReason ?? ((answer.toolCalls?.length ?? 0) > 0 ? 'tool_use' : 'end_turn');
}

function toolUseId(answer: WireAnswer, request: WireRequest, i: number): string {
  return answer.toolCalls?.[i]?.id ?? `toolu_wire_${request.index}_${i}`;
}

/** Anthropic counts cached input apart: `input_tokens` excludes `cache_read_input_tokens`. */
function usageOf(answer: WireAnswer) {
  const cached = answer.usage?.cachedInputTokens ?? 0;
  const input = (answer.usage?.inputTokens ?? 10) - cached;
  return {
    input_tokens: input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: answer.usage?.outputTokens ?? outputTokens(answer),
    service_tier: 'standard',
  };
}

function messageHead(answer: WireAnswer, request: WireRequest) {
  return {
    id: answer.id ?? `msg_wire_${request.index}`,
    type: 'message',
    role: 'assistant',
    model: answer.model ?? (typeof request.body?.model === 'string' ? request.body.model : 'claude-sonnet-4-6'),
  };
}

export function anthropicJson(answer: WireAnswer, request: WireRequest): unknown {
  const content: unknown[] = [];
  if (answer.text !== undefined || (answer.toolCalls?.length ?? 0) === 0) content.push({ type: 'text', text: answer.text ?? '' });
  (answer.toolCalls ?? []).forEach((c, i) => content.push({ type: 'tool_use', id: toolUseId(answer, request, i), name: c.name, input: argumentsObject(c.arguments) }));
  return {
    ...messageHead(answer, request),
    content,
    stop_reason: stopReason(answer),
    stop_sequence: answer.stopSequence ?? null,
    usage: usageOf(answer),
  };
}

/** The SSE events of a streamed answer, from `message_start` to `message_stop`, with a `ping`. */
export function anthropicSse(answer: WireAnswer, request: WireRequest): string[] {
  const usage = usageOf(answer);
  const out = [
    sse('message_start', {
      type: 'message_start',
      message: { ...messageHead(answer, request), content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    }),
  ];
  let index = 0;
  const text = answer.text ?? '';
  if (answer.text !== undefined || answer.textChunks !== undefined) {
    out.push(sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
    if (index === 0) out.push(sse('ping', { type: 'ping' }));
    for (const piece of answer.textChunks ?? tokenizeText(text)) {
      out.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }));
    }
    out.push(sse('content_block_stop', { type: 'content_block_stop', index }));
    index++;
  }
  (answer.toolCalls ?? []).forEach((c, i) => {
    out.push(sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: toolUseId(answer, request, i), name: c.name, input: {} } }));
    for (const fragment of chunkString(argumentsText(c.arguments), answer.argumentsChunkSize ?? 6)) {
      out.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: fragment } }));
    }
    out.push(sse('content_block_stop', { type: 'content_block_stop', index }));
    index++;
  });
  out.push(
    sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason(answer), stop_sequence: answer.stopSequence ?? null },
      usage: {
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        output_tokens: usage.output_tokens,
      },
    }),
  );
  out.push(sse('message_stop', { type: 'message_stop' }));
  return out;
}

export function anthropicStreamError(type: string | undefined, message: string | undefined): string {
  return sse('error', { type: 'error', error: { type: type ?? 'overloaded_error', message: message ?? 'Overloaded' } });
}

const DEFAULT_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export function anthropicErrorBody(error: WireError, requestId: string): unknown {
  const type = error.errorType ?? DEFAULT_TYPES[error.status] ?? (error.status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type, message: error.message ?? `Wire server error ${error.status}` }, request_id: requestId };
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
