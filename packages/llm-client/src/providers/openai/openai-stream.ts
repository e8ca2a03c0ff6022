import type OpenAI from 'openai';
import type { ModelStreamEvent } from '../../types/model.js';
import { StreamAccumulator } from '../shared/stream-accumulator.js';
import { mapOpenAIFinishReason, mapOpenAIUsage } from './openai-response.js';

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

/**
 * Maps Chat Completions chunks onto `ModelStreamEvent`s: content deltas, tool-call argument
 * fragments (by index), complete tool calls once the finish reason arrives, and usage from the
 * final usage chunk. The caller emits `finish` when the stream ends.
 */
export class OpenAIChunkMapper {
  readonly acc = new StreamAccumulator();
  private started = false;

  constructor(private readonly provider: string) {}

  get sawFinish(): boolean {
    return this.acc.finishReason !== undefined;
  }

  *map(chunk: Chunk): Generator<ModelStreamEvent, void, undefined> {
    const acc = this.acc;
    if (!this.started) {
      this.started = true;
      acc.model = chunk.model;
      acc.responseId = chunk.id;
      yield { type: 'stream-start', provider: this.provider, model: chunk.model, responseId: chunk.id };
    }
    if (chunk.usage) acc.usage = mapOpenAIUsage(chunk.usage);
    const choice = chunk.choices[0];
    if (!choice) return;
    const delta = choice.delta;
    if (typeof delta?.content === 'string' && delta.content !== '') {
      acc.text += delta.content;
      yield { type: 'text-delta', delta: delta.content };
    }
    if (typeof delta?.refusal === 'string' && delta.refusal !== '') {
      acc.text += delta.refusal;
      yield { type: 'text-delta', delta: delta.refusal };
    }
    for (const tc of delta?.tool_calls ?? []) {
      const index = tc.index;
      if (!acc.hasToolCall(index)) {
        const id = tc.id ?? `call_${index}`;
        const name = tc.function?.name ?? '';
        acc.startToolCall(index, id, name);
        yield { type: 'tool-call-start', toolCallId: id, toolName: name, index };
      }
      const fragment = tc.function?.arguments;
      if (fragment) {
        acc.appendArguments(index, fragment);
        yield { type: 'tool-call-delta', toolCallId: acc.toolCall(index)!.id, argumentsDelta: fragment, index };
      }
    }
    if (choice.finish_reason) {
      acc.finishReason = choice.finish_reason === 'stop' && delta?.refusal ? 'content-filter' : mapOpenAIFinishReason(choice.finish_reason);
      for (const index of acc.openToolCalls()) {
        const toolCall = acc.completeToolCall(index);
        if (toolCall) yield { type: 'tool-call', toolCall };
      }
    }
  }
}
