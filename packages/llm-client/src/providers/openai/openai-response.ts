import type OpenAI from 'openai';
import type { FinishReason, Usage } from '../../types/messages.js';
import type { ModelResponse } from '../../types/model.js';

export function mapOpenAIFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'content_filter':
      return 'content-filter';
    default:
      return 'other';
  }
}

export function mapOpenAIUsage(usage: OpenAI.CompletionUsage | null | undefined): Usage {
  const input = usage?.prompt_tokens ?? 0;
  const output = usage?.completion_tokens ?? 0;
  return {
    inputTokens: input,
    outputTokens: output,
    cachedInputTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    totalTokens: usage?.total_tokens ?? input + output,
  };
}

export function fromOpenAICompletion(completion: OpenAI.Chat.Completions.ChatCompletion, provider: string, model: string): ModelResponse {
  const choice = completion.choices[0];
  const message = choice?.message;
  const toolCalls = (message?.tool_calls ?? []).flatMap((c) =>
    c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
  );
  const refused = !message?.content && typeof message?.refusal === 'string' && message.refusal !== '';
  return {
    text: refused ? (message?.refusal ?? '') : (message?.content ?? ''),
    toolCalls,
    finishReason: refused ? 'content-filter' : mapOpenAIFinishReason(choice?.finish_reason),
    usage: mapOpenAIUsage(completion.usage),
    provider,
    model: completion.model || model,
    responseId: completion.id,
  };
}
