import type Anthropic from '@anthropic-ai/sdk';
import type { FinishReason, ToolCall, Usage } from '../../types/messages.js';
import type { ModelResponse } from '../../types/model.js';

export function mapAnthropicStopReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool-calls';
    case 'refusal':
      return 'content-filter';
    default:
      return 'other';
  }
}

export interface AnthropicUsageFields {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/**
 * Anthropic counts cache reads and writes apart from `input_tokens`; Baton's `inputTokens` is
 * all of them, with `cachedInputTokens` the cache reads.
 */
export function mapAnthropicUsage(usage: AnthropicUsageFields | null | undefined): Usage {
  const cached = usage?.cache_read_input_tokens ?? 0;
  const input = (usage?.input_tokens ?? 0) + cached + (usage?.cache_creation_input_tokens ?? 0);
  const output = usage?.output_tokens ?? 0;
  return { inputTokens: input, outputTokens: output, cachedInputTokens: cached, totalTokens: input + output };
}

export function fromAnthropicMessage(message: Anthropic.Messages.Message, provider: string, model: string): ModelResponse {
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
  }
  return {
    text,
    toolCalls,
    finishReason: mapAnthropicStopReason(message.stop_reason),
    usage: mapAnthropicUsage(message.usage),
    provider,
    model: message.model || model,
    responseId: message.id,
  };
}
