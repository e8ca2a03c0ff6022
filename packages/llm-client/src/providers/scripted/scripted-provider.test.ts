import { describe, expect, it, vi } from 'vitest';
import { AbortError, BatonError, InvalidArgumentError, RateLimitError } from '../../errors/index.js';
import type { ModelRequest, ModelStreamEvent } from '../../types/model.js';
import { RequestContext } from '../../types/request-context.js';
import { ScriptExhaustedError } from './script-exhausted-error.js';
import { ScriptedProvider, createScriptedProvider } from './scripted-provider.js';

const ask = (content: string): ModelRequest => ({ messages: [{ role: 'user', content }] });

async function collect(stream: AsyncIterable<ModelStreamEvent>): Promise<ModelStreamEvent[]> {
  const events: ModelStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

describe('ScriptedProvider', () => {
  it('answers from a script in order and records the calls', async () => {
    const model = new ScriptedProvider({ script: ['first', { text: 'second' }] });
    const ctx = RequestContext.create({ tenantId: 't' });
    const a = await model.complete(ask('one'), { headers: { 'Idempotency-Key': 'k1' }, context: ctx });
    const b = await model.complete(ask('two'));
    expect([a.text, b.text]).toEqual(['first', 'second']);
    expect(a).toMatchObject({ provider: 'scripted', model: 'scripted-1', finishReason: 'stop', responseId: 'scripted-0' });
    expect(model.calls.map((c) => [c.index, c.method, c.request.messages[0]?.content])).toEqual([[0, 'complete', 'one'], [1, 'complete', 'two']]);
    expect(model.calls[0]?.headers).toEqual({ 'Idempotency-Key': 'k1' });
    expect(model.calls[0]?.context).toBe(ctx);
    expect(model.specificationVersion).toBe('v1');
  });

  it('answers from a (sync or async) function given the request and call index', async () => {
    const model = createScriptedProvider({
      model: 'echo-2',
      script: async (req, i) => `#${i}: ${req.messages.at(-1)?.content}`,
    });
    expect((await model.complete(ask('hi'))).text).toBe('#0: hi');
    const events = await collect(model.stream({ ...ask('there'), model: 'override' }));
    expect(events.at(-1)).toMatchObject({ type: 'finish', response: { text: '#1: there', model: 'override' } });
    expect(new ScriptedProvider().modelId).toBe('scripted-1');
    expect((await new ScriptedProvider().complete(ask('ping'))).text).toBe('You said: ping');
  });

  it('streams word-ish tokens whose concatenation is the text, then finish with the same answer', async () => {
    const text = 'Hello, world!  Two\tspaces\nand a newline ';
    const model = new ScriptedProvider({ script: [text, text] });
    const events = await collect(model.stream(ask('x')));
    expect(events[0]).toEqual({ type: 'stream-start', provider: 'scripted', model: 'scripted-1', responseId: 'scripted-0' });
    const deltas = events.flatMap((e) => (e.type === 'text-delta' ? [e.delta] : []));
    expect(deltas.slice(0, 3)).toEqual(['Hello,', ' world!', '  Two']);
    expect(deltas.join('')).toBe(text);
    const finish = events.at(-1);
    expect(finish?.type).toBe('finish');
    const completed = await model.complete(ask('x'));
    expect(finish).toMatchObject({ response: { ...completed, responseId: 'scripted-0' } });
  });

  it('emits tool calls with argument fragments that reassemble, and finishes with tool-calls', async () => {
    const model = new ScriptedProvider({
      script: [
        {
          text: 'Checking.',
          toolCalls: [
            { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius', note: 'é😀' } },
            { name: 'get_time', arguments: '{"tz":"Europe/Paris"}', id: 'fixed' },
          ],
        },
      ],
    });
    const events = await collect(model.stream(ask('weather?')));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('stream-start');
    expect(types.at(-1)).toBe('finish');
    expect(types.indexOf('tool-call-start')).toBeGreaterThan(types.lastIndexOf('text-delta'));
    const fragments = (i: number) => events.flatMap((e) => (e.type === 'tool-call-delta' && e.index === i ? [e.argumentsDelta] : []));
    expect(fragments(0).length).toBeGreaterThan(1);
    expect(JSON.parse(fragments(0).join(''))).toEqual({ city: 'Paris', unit: 'celsius', note: 'é😀' });
    expect(fragments(1).join('')).toBe('{"tz":"Europe/Paris"}');
    const calls = events.flatMap((e) => (e.type === 'tool-call' ? [e.toolCall] : []));
    expect(calls.map((c) => c.id)).toEqual(['call_0_0', 'fixed']);
    expect(events.find((e) => e.type === 'tool-call-start')).toEqual({ type: 'tool-call-start', toolCallId: 'call_0_0', toolName: 'get_weather', index: 0 });
    const finish = events.at(-1);
    expect(finish?.type === 'finish' && finish.response.finishReason).toBe('tool-calls');
    expect(finish?.type === 'finish' && finish.response.toolCalls).toEqual(calls);
  });

  it('computes usage deterministically and lets a step override it', async () => {
    const req: ModelRequest = { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'abcdefghi' }] };
    const model = new ScriptedProvider({ script: ['12345', { text: 'x', usage: { cachedInputTokens: 2, outputTokens: 7 } }], loop: true });
    const a = await model.complete(req);
    expect(a.usage).toEqual({ inputTokens: 5, outputTokens: 2, cachedInputTokens: 0, totalTokens: 7 }); // ceil(17/4), ceil(5/4)
    const b = await model.complete(req);
    expect(b.usage).toEqual({ inputTokens: 5, outputTokens: 7, cachedInputTokens: 2, totalTokens: 12 });
    const again = await model.complete(req);
    expect(again.usage).toEqual(a.usage);
  });

  it('throws a step error: complete rejects, stream yields the text first', async () => {
    const err = new RateLimitError({ message: 'slow down', provider: 'scripted', retryAfterMs: 10 });
    const model = new ScriptedProvider({ script: [{ error: err }, { text: 'partial answer', error: err }] });
    await expect(model.complete(ask('a'))).rejects.toBe(err);
    const seen: string[] = [];
    await expect(async () => {
      for await (const e of model.stream(ask('b'))) if (e.type === 'text-delta') seen.push(e.delta);
    }).rejects.toBe(err);
    expect(seen.join('')).toBe('partial answer');
  });

  it('throws ScriptExhaustedError when the script runs out, and loops when asked', async () => {
    const model = new ScriptedProvider({ script: ['only'] });
    await model.complete(ask('1'));
    const error = await model.complete(ask('2')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScriptExhaustedError);
    expect(BatonError.isInstance(error) && error.code).toBe('script_exhausted');
    expect((error as Error).message).toMatch(/call #2 but the script has 1 step/);
    await expect(collect(model.stream(ask('3')))).rejects.toBeInstanceOf(ScriptExhaustedError);
    const looping = new ScriptedProvider({ script: ['a', 'b'], loop: true });
    const texts = [];
    for (let i = 0; i < 5; i++) texts.push((await looping.complete(ask('x'))).text);
    expect(texts).toEqual(['a', 'b', 'a', 'b', 'a']);
  });

  it('rejects invalid options and steps with InvalidArgumentError', async () => {
    expect(() => new ScriptedProvider({ tokenDelayMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => new ScriptedProvider({ model: '' })).toThrow(/model/);
    expect(() => new ScriptedProvider({ script: [{ toolCalls: [{ name: '', arguments: {} }] }] })).toThrow(/script\[0\]\.toolCalls\[0\]\.name/);
    expect(() => new ScriptedProvider({ script: [42 as never] })).toThrow(InvalidArgumentError);
    expect(() => new ScriptedProvider({ script: [], loop: true })).toThrow(InvalidArgumentError);
    const bad = new ScriptedProvider({ script: () => ({ finishReason: 'nope' as never }) });
    await expect(bad.complete(ask('x'))).rejects.toThrow(/finishReason/);
  });
});

describe('ScriptedProvider cancellation', () => {
  it('rejects with AbortError mid-stream, at the next event', async () => {
    const model = new ScriptedProvider({ script: ['one two three four five'] });
    const controller = new AbortController();
    const seen: string[] = [];
    const error = await (async () => {
      for await (const e of model.stream(ask('x'), { signal: controller.signal })) {
        if (e.type === 'text-delta') seen.push(e.delta);
        if (seen.length === 2) controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(seen).toEqual(['one', ' two']);
  });

  it('rejects promptly while waiting on a token delay or a first-token delay', async () => {
    const model = new ScriptedProvider({ script: ['a b c d', { text: 'late', delayMs: 10_000 }], tokenDelayMs: 1_000 });
    const controller = new AbortController();
    const iterator = model.stream(ask('x'), { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.type).toBe('stream-start');
    const pending = iterator.next();
    setTimeout(() => controller.abort(), 5);
    const started = performance.now();
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(performance.now() - started).toBeLessThan(200);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });

    const second = new AbortController();
    const call = model.complete(ask('y'), { signal: second.signal });
    setTimeout(() => second.abort(new Error('user left')), 5);
    const t0 = performance.now();
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).message).toMatch(/user left/);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('rejects at once when the signal has already fired', async () => {
    const model = new ScriptedProvider({ script: ['a', 'b'] });
    const signal = AbortSignal.abort();
    await expect(model.complete(ask('x'), { signal })).rejects.toBeInstanceOf(AbortError);
    await expect(collect(model.stream(ask('x'), { signal }))).rejects.toBeInstanceOf(AbortError);
  });

  it('keeps answering after abort when ignoreAbort is set', async () => {
    const model = new ScriptedProvider({ script: ['a b c'], tokenDelayMs: 2, ignoreAbort: true });
    const controller = new AbortController();
    const deltas: string[] = [];
    for await (const e of model.stream(ask('x'), { signal: controller.signal })) {
      controller.abort();
      if (e.type === 'text-delta') deltas.push(e.delta);
    }
    expect(deltas.join('')).toBe('a b c');
  });

  it('with a per-token delay, streams no faster than the delay', async () => {
    const model = new ScriptedProvider({ script: ['a b c d e'], tokenDelayMs: 4 });
    const t0 = performance.now();
    await collect(model.stream(ask('x')));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(4 * 5 - 2);
  });

  it('streams without delay without allocating a single timer', async () => {
    const model = new ScriptedProvider({ script: [' token'.repeat(50_000)] });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    try {
      let n = 0;
      for await (const e of model.stream(ask('x'))) if (e.type === 'text-delta') n++;
      expect(n).toBe(50_000);
      expect(setTimeoutSpy).not.toHaveBeenCalled();
    } finally {
      setTimeoutSpy.mockRestore();
    }
  });
});
