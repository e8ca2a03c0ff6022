import { tokenizeText } from '../providers/scripted/tokenize.js';
import type { WireAnswer, WireError, WireRequest } from './wire-types.js';
import { argumentsText, chunkString, outputTokens } from './wire-shared.js';

/** OpenAI Chat Completions wire format: JSON bodies, SSE chunks and error bodies. */

const CREATED = 1_735_689_600;

function base(answer: WireAnswer, request: WireRequest) {
  return {
    id: answer.id ?? `chatcmpl-wire-${request.index}`,
    created: CREATED,
    model: answer.model ?? (typeof request.body?.model === 'string' ? request.body.model : 'gpt-4o-mini'),
    system_fingerprint: 'fp_wire',
  };
}

function usageOf(answer: WireAnswer) {
  const prompt = answer.usage?.inputTokens ?? 10;
  const completion = answer.usage?.outputTokens ?? outputTokens(answer);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: answer.usage?.cachedInputTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function finishReason(answer: WireAnswer): string {
  return answer.stopReason ?? ((answer.toolCalls?.length ?? 0) > 0 ? 'tool_calls' : 'stop');
}

function toolCallId(answer: WireAnswer, request: WireRequest, i: number): string {
  return answer.toolCalls?.[i]?.id ?? `call_wire_${request.index}_${i}`;
}

export function openaiJson(answer: WireAnswer, request: WireRequest): unknown {
  const toolCalls = (answer.toolCalls ?? []).map((c, i) => ({
    id: toolCallId(answer, request, i),
    type: 'function',
    function: { name: c.name, arguments: argumentsText(c.arguments) },
  }));
  return {
    ...base(answer, request),
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: answer.text ?? (toolCalls.length > 0 ? null : ''),
          refusal: null,
          annotations: [],
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(answer),
      },
    ],
    usage: usageOf(answer),
    service_tier: 'default',
  };
}

/** The SSE events (`data: ...\n\n`) of a streamed answer, `[DONE]` included. */
export function openaiSse(answer: WireAnswer, request: WireRequest): string[] {
  const includeUsage = request.body?.stream_options?.include_usage === true;
  const head = { ...base(answer, request), object: 'chat.completion.chunk' };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    sse({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) });
  const out = [chunk({ role: 'assistant', content: '', refusal: null })];
  const text = answer.text ?? '';
  for (const piece of answer.textChunks ?? tokenizeText(text)) out.push(chunk({ content: piece }));
  (answer.toolCalls ?? []).forEach((c, index) => {
    out.push(chunk({ tool_calls: [{ index, id: toolCallId(answer, request, index), type: 'function', function: { name: c.name, arguments: '' } }] }));
    for (const fragment of chunkString(argumentsText(c.arguments), answer.argumentsChunkSize ?? 6)) {
      out.push(chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }));
    }
  });
  out.push(chunk({}, finishReason(answer)));
  if (includeUsage) out.push(sse({ ...head, choices: [], usage: usageOf(answer) }));
  out.push('data: [DONE]\n\n');
  return out;
}

export function openaiStreamError(type: string | undefined, message: string | undefined): string {
  return sse({ error: { message: message ?? 'The server had an error while processing your request.', type: type ?? 'server_error', param: null, code: null } });
}

const DEFAULT_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  403: ['invalid_request_error', 'unsupported_country_region_territory'],
  404: ['invalid_request_error', 'model_not_found'],
  429: ['requests', 'rate_limit_exceeded'],
  500: ['server_error', null],
  503: ['server_error', null],
};

export function openaiErrorBody(error: WireError): unknown {
  const [type, code] = DEFAULT_TYPES[error.status] ?? (error.status >= 500 ? ['server_error', null] : ['invalid_request_error', null]);
  return {
    error: {
      message: error.message ?? `Wire server error ${error.status}`,
      type: error.errorType ?? type,
      param: null,
      code: error.code === undefined ? code : error.code,
    },
  };
}

function sse(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}
