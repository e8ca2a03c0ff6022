import type { Message, ModelRequest } from '../types/index.js';
import { stableHash } from './stable-hash.js';

/**
 * The request as the cache and the idempotency tracker see it: provider and model resolved,
 * absent and empty optional fields dropped, so equal requests hash the same however they
 * were spelled.
 */
export function normalizeRequest(request: ModelRequest, target: { provider: string; model: string }): Record<string, unknown> {
  return {
    provider: target.provider,
    model: target.model,
    messages: request.messages.map(normalizeMessage),
    tools: nonEmpty(request.tools),
    toolChoice: request.toolChoice,
    maxTokens: request.maxTokens,
    temperature: request.temperature,
    topP: request.topP,
    stop: nonEmpty(request.stop),
    responseFormat: request.responseFormat,
    providerOptions: request.providerOptions,
  };
}

/** sha256 of the canonical JSON of the normalized request. */
export function requestHash(request: ModelRequest, target: { provider: string; model: string }): string {
  return stableHash(normalizeRequest(request, target));
}

function normalizeMessage(message: Message): Message {
  if (message.role === 'assistant' && message.toolCalls !== undefined && message.toolCalls.length === 0) {
    return { role: 'assistant', content: message.content };
  }
  if (message.role === 'tool' && message.isError === false) {
    return { role: 'tool', toolCallId: message.toolCallId, toolName: message.toolName, content: message.content };
  }
  return message;
}

function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list === undefined || list.length === 0 ? undefined : list;
}
