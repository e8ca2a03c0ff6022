import type Anthropic from '@anthropic-ai/sdk';
import type { ModelStreamEvent } from '../../types/model.js';
import { StreamAccumulator } from '../shared/stream-accumulator.js';
import { mapAnthropicStopReason, mapAnthropicUsage, type AnthropicUsageFields } from './anthropic-response.js';

type StreamEvent = Anthropic.Messages.RawMessageStreamEvent;

/**
 * Maps Messages stream events onto `ModelStreamEvent`s: `text_delta` to text deltas,
 * `input_json_delta` to tool-call argument fragments (tool calls are numbered in order, apart
 * from text blocks), a tool call at its block's stop, and usage from message_start and
 * message_delta. The caller emits `finish` after `message_stop`.
 */
export class AnthropicEventMapper {
  readonly acc = new StreamAccumulator();
  sawStop = false;
  private usage: AnthropicUsageFields = {};
  /** Content block index -> tool call index. */
  private readonly toolIndex = new Map<number, number>();

  constructor(private readonly provider: string) {}

  *map(event: StreamEvent): Generator<ModelStreamEvent, void, undefined> {
    const acc = this.acc;
    switch (event.type) {
      case 'message_start':
        acc.model = event.message.model;
        acc.responseId = event.message.id;
        this.mergeUsage(event.message.usage);
        yield { type: 'stream-start', provider: this.provider, model: event.message.model, responseId: event.message.id };
        return;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'tool_use') {
          const index = this.toolIndex.size;
          this.toolIndex.set(event.index, index);
          acc.startToolCall(index, block.id, block.name);
          yield { type: 'tool-call-start', toolCallId: block.id, toolName: block.name, index };
        } else if (block.type === 'text' && block.text) {
          acc.text += block.text;
          yield { type: 'text-delta', delta: block.text };
        }
        return;
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (delta.type === 'text_delta') {
          if (delta.text === '') return;
          acc.text += delta.text;
          yield { type: 'text-delta', delta: delta.text };
        } else if (delta.type === 'input_json_delta') {
          const index = this.toolIndex.get(event.index);
          if (index === undefined || delta.partial_json === '') return;
          acc.appendArguments(index, delta.partial_json);
          yield { type: 'tool-call-delta', toolCallId: acc.toolCall(index)!.id, argumentsDelta: delta.partial_json, index };
        }
        return;
      }
      case 'content_block_stop': {
        const index = this.toolIndex.get(event.index);
        if (index === undefined) return;
        // A tool called without arguments streams no input_json_delta at all.
        const toolCall = acc.completeToolCall(index, '{}');
        if (toolCall) yield { type: 'tool-call', toolCall };
        return;
      }
      case 'message_delta':
        if (event.delta.stop_reason) acc.finishReason = mapAnthropicStopReason(event.delta.stop_reason);
        this.mergeUsage(event.usage);
        return;
      case 'message_stop':
        this.sawStop = true;
        return;
      default:
        return;
    }
  }

  private mergeUsage(next: AnthropicUsageFields | null | undefined): void {
    if (!next) return;
    for (const key of ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] as const) {
      const value = next[key];
      if (typeof value === 'number') this.usage[key] = value;
    }
    this.acc.usage = mapAnthropicUsage(this.usage);
  }
}
