import type { Message, Usage } from '../../types/messages.js';
import type { ModelResponse, ModelStreamEvent } from '../../types/model.js';
import type { ResolvedAnswer } from './script-step.js';
import { estimateTokens, fragmentArguments, tokenizeText } from './tokenize.js';

export interface AnswerMeta {
  provider: string;
  model: string;
  responseId: string;
  messages: readonly Message[];
}

/**
 * The events of one scripted answer, in order: `stream-start`, one `text-delta` per token,
 * then per tool call `tool-call-start`, its `tool-call-delta` fragments and `tool-call`, and
 * `finish`. A step with an `error` throws it after the text, in place of the tool calls.
 */
export function* playAnswer(answer: ResolvedAnswer, meta: AnswerMeta): Generator<ModelStreamEvent, void, undefined> {
  yield { type: 'stream-start', provider: meta.provider, model: meta.model, responseId: meta.responseId };
  if (answer.text.length > 0) {
    for (const delta of tokenizeText(answer.text)) yield { type: 'text-delta', delta };
  }
  if (answer.hasError) throw answer.error;
  for (let index = 0; index < answer.toolCalls.length; index++) {
    const call = answer.toolCalls[index]!;
    yield { type: 'tool-call-start', toolCallId: call.id, toolName: call.name, index };
    for (const argumentsDelta of fragmentArguments(call.arguments)) {
      yield { type: 'tool-call-delta', toolCallId: call.id, argumentsDelta, index };
    }
    yield { type: 'tool-call', toolCall: { ...call } };
  }
  yield { type: 'finish', response: buildResponse(answer, meta) };
}

/** How many delayed events (text tokens and argument fragments) an answer streams. */
export function countDelayedEvents(answer: ResolvedAnswer): number {
  let n = answer.text.length > 0 ? tokenizeText(answer.text).length : 0;
  if (answer.hasError) return n;
  for (const call of answer.toolCalls) n += fragmentArguments(call.arguments).length;
  return n;
}

export function buildResponse(answer: ResolvedAnswer, meta: AnswerMeta): ModelResponse {
  return {
    text: answer.text,
    toolCalls: answer.toolCalls.map((c) => ({ ...c })),
    finishReason: answer.finishReason,
    usage: computeUsage(answer, meta.messages),
    provider: meta.provider,
    model: meta.model,
    responseId: meta.responseId,
  };
}

/**
 * Deterministic usage: input is ceil(chars / 4) over every message's content and tool calls,
 * output likewise over the answer's text and tool calls; the step's `usage` overrides fields.
 */
export function computeUsage(answer: ResolvedAnswer, messages: readonly Message[]): Usage {
  let inputChars = 0;
  for (const m of messages) {
    inputChars += m.content.length;
    if (m.role === 'assistant' && m.toolCalls) for (const c of m.toolCalls) inputChars += c.name.length + c.arguments.length;
  }
  let outputChars = answer.text.length;
  for (const c of answer.toolCalls) outputChars += c.name.length + c.arguments.length;
  const o = answer.usageOverride;
  const inputTokens = o?.inputTokens ?? estimateTokens(inputChars);
  const outputTokens = o?.outputTokens ?? estimateTokens(outputChars);
  return {
    inputTokens,
    outputTokens,
    cachedInputTokens: o?.cachedInputTokens ?? 0,
    totalTokens: o?.totalTokens ?? inputTokens + outputTokens,
  };
}
