import type OpenAI from 'openai';
import type { Message } from '../../types/messages.js';
import type { ModelRequest, ToolChoice } from '../../types/model.js';

type Params = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
type MessageParam = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/**
 * The Chat Completions body for a request. `providerOptions.openai` is merged in last, so any
 * field the shared request does not cover can be set there.
 */
export function toOpenAIParams(request: ModelRequest, model: string): Params {
  const params: Params = { model, messages: request.messages.map(toOpenAIMessage) };
  if (request.tools && request.tools.length > 0) {
    params.tools = request.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters },
    }));
  }
  if (request.toolChoice !== undefined) params.tool_choice = toOpenAIToolChoice(request.toolChoice);
  if (request.maxTokens !== undefined) {
    // Reasoning models only accept max_completion_tokens; many compatible servers only max_tokens.
    if (isReasoningModel(model)) params.max_completion_tokens = request.maxTokens;
    else params.max_tokens = request.maxTokens;
  }
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.topP !== undefined) params.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) params.stop = request.stop;
  if (request.responseFormat) {
    const { schema, name } = request.responseFormat;
    params.response_format = schema
      ? { type: 'json_schema', json_schema: { name: name ?? 'response', schema } }
      : { type: 'json_object' };
  }
  const extra = request.providerOptions?.['openai'];
  return extra ? ({ ...params, ...extra } as Params) : params;
}

export function toOpenAIMessage(message: Message): MessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content };
    case 'assistant': {
      const calls = message.toolCalls ?? [];
      if (calls.length === 0) return { role: 'assistant', content: message.content };
      return {
        role: 'assistant',
        content: message.content === '' ? null : message.content,
        tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
      };
    }
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    default: {
      const unknown: never = message;
      throw new Error(`Unknown message role in ${JSON.stringify(unknown)}`);
    }
  }
}

function toOpenAIToolChoice(choice: ToolChoice): OpenAI.Chat.Completions.ChatCompletionToolChoiceOption {
  if (typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
}

function isReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model);
}
