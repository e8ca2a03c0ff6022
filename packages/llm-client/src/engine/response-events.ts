import type { ModelResponse, ModelStreamEvent } from '../types/model.js';

/**
 * A complete response as the events of a stream (start, the whole text as one delta, each
 * tool call, finish): how a cached or already completed answer is streamed.
 */
export function responseToEvents(response: ModelResponse): ModelStreamEvent[] {
  const events: ModelStreamEvent[] = [];
  const start: ModelStreamEvent = { type: 'stream-start', provider: response.provider, model: response.model };
  if (response.responseId !== undefined) start.responseId = response.responseId;
  events.push(start);
  if (response.text.length > 0) events.push({ type: 'text-delta', delta: response.text });
  response.toolCalls.forEach((toolCall, index) => {
    events.push({ type: 'tool-call-start', toolCallId: toolCall.id, toolName: toolCall.name, index });
    if (toolCall.arguments.length > 0) events.push({ type: 'tool-call-delta', toolCallId: toolCall.id, argumentsDelta: toolCall.arguments, index });
    events.push({ type: 'tool-call', toolCall });
  });
  events.push({ type: 'finish', response });
  return events;
}

/** A copy of `response` that shares nothing mutable with it (tool calls, usage, cost). */
export function copyResponse(response: ModelResponse): ModelResponse {
  const copy: ModelResponse = { ...response, toolCalls: response.toolCalls.map((c) => ({ ...c })), usage: { ...response.usage } };
  if (response.cost !== undefined) copy.cost = { ...response.cost };
  return copy;
}
