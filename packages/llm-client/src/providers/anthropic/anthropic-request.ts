import type Anthropic from '@anthropic-ai/sdk';
import type { Message } from '../../types/messages.js';
import type { ModelRequest, ToolChoice } from '../../types/model.js';

type Params = Anthropic.Messages.MessageCreateParamsNonStreaming;
type MessageParam = Anthropic.Messages.MessageParam;
type ContentBlockParam = Anthropic.Messages.ContentBlockParam;

/**
 * The Messages body for a request: system messages become `system`, assistant tool calls
 * `tool_use` blocks, consecutive tool results one user message of `tool_result` blocks.
 * `providerOptions.anthropic` is merged in last.
 */
export function toAnthropicParams(request: ModelRequest, model: string, defaultMaxTokens: number): Params {
  const { system, messages } = toAnthropicMessages(request.messages);
  const params: Params = { model, max_tokens: request.maxTokens ?? defaultMaxTokens, messages };
  if (system !== undefined) params.system = system;
  if (request.tools && request.tools.length > 0) {
    params.tools = request.tools.map((t) => ({
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      input_schema: t.parameters as Anthropic.Messages.Tool.InputSchema,
    }));
  }
  if (request.toolChoice !== undefined) params.tool_choice = toAnthropicToolChoice(request.toolChoice);
  // Sampling settings are no longer typed by the SDK (newer models reject them); sent only when asked for.
  const sampling: Record<string, number> = {};
  if (request.temperature !== undefined) sampling['temperature'] = request.temperature;
  if (request.topP !== undefined) sampling['top_p'] = request.topP;
  Object.assign(params, sampling);
  if (request.stop !== undefined && request.stop.length > 0) params.stop_sequences = request.stop;
  if (request.responseFormat?.schema) params.output_config = { format: { type: 'json_schema', schema: request.responseFormat.schema } };
  const extra = request.providerOptions?.['anthropic'];
  return extra ? ({ ...params, ...extra } as Params) : params;
}

export function toAnthropicMessages(input: readonly Message[]): { system: string | undefined; messages: MessageParam[] } {
  const systemParts: string[] = [];
  const messages: MessageParam[] = [];
  for (const m of input) {
    switch (m.role) {
      case 'system':
        systemParts.push(m.content);
        break;
      case 'user': {
        const last = messages.at(-1);
        // A user turn right after tool results joins their message (results must come first).
        if (last?.role === 'user' && Array.isArray(last.content)) last.content.push({ type: 'text', text: m.content });
        else messages.push({ role: 'user', content: m.content });
        break;
      }
      case 'assistant': {
        const calls = m.toolCalls ?? [];
        if (calls.length === 0) {
          messages.push({ role: 'assistant', content: m.content });
          break;
        }
        const content: ContentBlockParam[] = m.content === '' ? [] : [{ type: 'text', text: m.content }];
        for (const c of calls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: parseInput(c.arguments) });
        messages.push({ role: 'assistant', content });
        break;
      }
      case 'tool': {
        const block: ContentBlockParam = { type: 'tool_result', tool_use_id: m.toolCallId, content: m.content, ...(m.isError ? { is_error: true } : {}) };
        const last = messages.at(-1);
        if (last?.role === 'user' && Array.isArray(last.content) && last.content.every((b) => b.type === 'tool_result')) last.content.push(block);
        else messages.push({ role: 'user', content: [block] });
        break;
      }
      default: {
        const unknown: never = m;
        throw new Error(`Unknown message role in ${JSON.stringify(unknown)}`);
      }
    }
  }
  return { system: systemParts.length > 0 ? systemParts.join('\n\n') : undefined, messages };
}

function toAnthropicToolChoice(choice: ToolChoice): Anthropic.Messages.ToolChoice {
  switch (choice) {
    case 'auto':
      return { type: 'auto' };
    case 'required':
      return { type: 'any' };
    case 'none':
      return { type: 'none' };
    default:
      return { type: 'tool', name: choice.name };
  }
}

/** `tool_use.input` must be an object; arguments the model got wrong are sent as `{}`. */
function parseInput(args: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(args);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
