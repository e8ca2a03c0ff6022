/**
 * A small in-test `LanguageModel` for the engine's unit tests, and tests of the fake itself.
 * Each call takes the next step of its script (the last step repeats).
 */
import { describe, expect, it } from 'vitest';
import { AbortError } from '../errors/engine-errors.js';
import type { FinishReason, ToolCall, Usage } from '../types/messages.js';
import type { LanguageModel, ModelCallOptions, ModelRequest, ModelResponse, ModelStreamEvent } from '../types/model.js';

export interface FakeAnswer {
  text?: string;
  toolCalls?: ToolCall[];
  usage?: Partial<Usage>;
  finishReason?: FinishReason;
}

/** Fails: `complete()` rejects; `stream()` yields `deliver` events of `text` first. */
export interface FakeFailure {
  error: unknown;
  text?: string;
  deliver?: number;
}

/** Never answers; rejects with `AbortError` when the call's signal fires (unless `ignoreSignal`). */
export interface FakeHang {
  hang: true;
  ignoreSignal?: boolean;
}

export type FakeStep = string | FakeAnswer | FakeFailure | FakeHang | ((request: ModelRequest, index: number) => FakeStep | Promise<FakeStep>);

export interface FakeCall {
  method: 'complete' | 'stream';
  request: ModelRequest;
  options: ModelCallOptions;
}

export class FakeModel implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly calls: FakeCall[] = [];
  private readonly steps: FakeStep[];

  constructor(options: { provider?: string; modelId?: string; steps?: FakeStep[] } = {}) {
    this.provider = options.provider ?? 'fake';
    this.modelId = options.modelId ?? 'fake-1';
    this.steps = options.steps ?? ['ok'];
  }

  async complete(request: ModelRequest, options: ModelCallOptions = {}): Promise<ModelResponse> {
    const step = await this.take('complete', request, options);
    if ('hang' in step) return this.hang(step, options.signal);
    if ('error' in step) throw step.error;
    return this.response(request, step);
  }

  async *stream(request: ModelRequest, options: ModelCallOptions = {}): AsyncGenerator<ModelStreamEvent> {
    const step = await this.take('stream', request, options);
    if ('hang' in step) {
      yield { type: 'stream-start', provider: this.provider, model: request.model ?? this.modelId };
      await this.hang(step, options.signal);
      return;
    }
    if ('error' in step) {
      const events = this.events(request, { text: step.text ?? '' }).slice(0, -1);
      const deliver = step.deliver ?? 0;
      for (let i = 0; i < deliver && i < events.length; i++) yield events[i] as ModelStreamEvent;
      throw step.error;
    }
    for (const event of this.events(request, step)) {
      if (options.signal?.aborted) throw new AbortError(options.signal.reason);
      yield event;
    }
  }

  private async take(method: FakeCall['method'], request: ModelRequest, options: ModelCallOptions): Promise<Exclude<FakeStep, string | ((...a: never[]) => unknown)>> {
    const index = this.calls.length;
    this.calls.push({ method, request, options });
    let step = this.steps[Math.min(index, this.steps.length - 1)] as FakeStep;
    if (typeof step === 'function') step = await step(request, index);
    return typeof step === 'string' ? { text: step } : (step as Exclude<FakeStep, string | ((...a: never[]) => unknown)>);
  }

  private hang(step: FakeHang, signal: AbortSignal | undefined): Promise<never> {
    return new Promise((_, reject) => {
      if (step.ignoreSignal === true || signal === undefined) return;
      signal.addEventListener('abort', () => reject(new AbortError(signal.reason)), { once: true });
    });
  }

  private response(request: ModelRequest, answer: FakeAnswer): ModelResponse {
    const usage: Usage = { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, totalTokens: 15, ...answer.usage };
    return {
      text: answer.text ?? '',
      toolCalls: answer.toolCalls ?? [],
      finishReason: answer.finishReason ?? ((answer.toolCalls?.length ?? 0) > 0 ? 'tool-calls' : 'stop'),
      usage,
      provider: this.provider,
      model: request.model ?? this.modelId,
    };
  }

  private events(request: ModelRequest, answer: FakeAnswer): ModelStreamEvent[] {
    const response = this.response(request, answer);
    const events: ModelStreamEvent[] = [{ type: 'stream-start', provider: response.provider, model: response.model }];
    for (const piece of response.text.match(/\S+\s*|\s+/g) ?? []) events.push({ type: 'text-delta', delta: piece });
    response.toolCalls.forEach((toolCall, index) => {
      events.push({ type: 'tool-call-start', toolCallId: toolCall.id, toolName: toolCall.name, index });
      events.push({ type: 'tool-call', toolCall });
    });
    events.push({ type: 'finish', response });
    return events;
  }
}

export function userMessage(content: string): ModelRequest {
  return { messages: [{ role: 'user', content }] };
}

/** Injected internals: no real backoff, recorded delays, fixed jitter. */
export function fakeInternals(random = 0.5) {
  const sleeps: number[] = [];
  let clock = 0;
  return {
    sleeps,
    advance: (ms: number) => {
      clock += ms;
    },
    internals: {
      now: () => clock,
      random: () => random,
      sleep: async (ms: number, signal?: AbortSignal) => {
        sleeps.push(ms);
        if (signal?.aborted) throw new AbortError(signal.reason);
      },
    },
  };
}

export async function collect(stream: AsyncIterable<ModelStreamEvent>): Promise<ModelStreamEvent[]> {
  const out: ModelStreamEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

export function textOf(events: readonly ModelStreamEvent[]): string {
  return events.map((e) => (e.type === 'text-delta' ? e.delta : '')).join('');
}

describe('FakeModel (engine test fake)', () => {
  it('plays its steps in order and repeats the last one', async () => {
    const model = new FakeModel({ steps: ['a', 'b'] });
    const texts = [];
    for (let i = 0; i < 3; i++) texts.push((await model.complete(userMessage('x'))).text);
    expect(texts).toEqual(['a', 'b', 'b']);
    expect(model.calls.map((c) => c.method)).toEqual(['complete', 'complete', 'complete']);
  });

  it('streams words and ends with finish; a failure delivers its events first', async () => {
    const model = new FakeModel({ steps: ['hello big world', { error: new Error('cut'), text: 'par tial', deliver: 2 }] });
    const events = await collect(model.stream(userMessage('x')));
    expect(textOf(events)).toBe('hello big world');
    expect(events.at(-1)?.type).toBe('finish');
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const e of model.stream(userMessage('x'))) seen.push(e.type);
      })(),
    ).rejects.toThrow('cut');
    expect(seen).toEqual(['stream-start', 'text-delta']);
  });
});
