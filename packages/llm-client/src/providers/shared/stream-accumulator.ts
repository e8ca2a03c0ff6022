import type { FinishReason, ToolCall, Usage } from '../../types/messages.js';
import type { ModelResponse } from '../../types/model.js';

interface PendingToolCall {
  id: string;
  name: string;
  arguments: string;
  done: boolean;
}

/** Collects a streamed answer: text, tool calls by index, finish reason and usage. */
export class StreamAccumulator {
  text = '';
  finishReason: FinishReason | undefined;
  usage: Usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, totalTokens: 0 };
  responseId: string | undefined;
  model: string | undefined;
  private readonly calls: PendingToolCall[] = [];

  /** Starts tool call `index`; false when it was already started. */
  startToolCall(index: number, id: string, name: string): boolean {
    if (this.calls[index]) return false;
    this.calls[index] = { id, name, arguments: '', done: false };
    return true;
  }

  hasToolCall(index: number): boolean {
    return this.calls[index] !== undefined;
  }

  toolCall(index: number): PendingToolCall | undefined {
    return this.calls[index];
  }

  appendArguments(index: number, fragment: string): void {
    const call = this.calls[index];
    if (call) call.arguments += fragment;
  }

  /** Marks call `index` complete and returns it (undefined if unknown or already complete). */
  completeToolCall(index: number, emptyArguments = ''): ToolCall | undefined {
    const call = this.calls[index];
    if (!call || call.done) return undefined;
    call.done = true;
    if (call.arguments === '') call.arguments = emptyArguments;
    return { id: call.id, name: call.name, arguments: call.arguments };
  }

  /** Indexes of the started calls not yet complete, in order. */
  openToolCalls(): number[] {
    const out: number[] = [];
    this.calls.forEach((c, i) => {
      if (c && !c.done) out.push(i);
    });
    return out;
  }

  /** What has arrived so far (for a `StreamInterruptedError`). */
  partialToolCalls(): ToolCall[] {
    return this.calls.filter((c): c is PendingToolCall => c !== undefined).map((c) => ({ id: c.id, name: c.name, arguments: c.arguments }));
  }

  response(provider: string, fallbackModel: string): ModelResponse {
    const out: ModelResponse = {
      text: this.text,
      toolCalls: this.partialToolCalls(),
      finishReason: this.finishReason ?? 'other',
      usage: this.usage,
      provider,
      model: this.model ?? fallbackModel,
    };
    if (this.responseId !== undefined) out.responseId = this.responseId;
    return out;
  }
}
