import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AbortError } from '../errors/index.js';
import { defineTool } from '../tools/define-tool.js';
import type { ModelResponse } from '../types/model.js';
import { Agent } from './agent.js';
import { scriptedEngine } from './scripted-engine.test.helpers.js';
import type { AgentMiddleware, AgentStreamEvent } from './types.js';

const lookup = defineTool({ name: 'lookup', parameters: z.object({ q: z.string() }), execute: ({ q }) => `result for ${q}` });

describe('Agent.stream', () => {
  it('streams events in order; text deltas concatenate to the final text', async () => {
    const { engine, provider } = scriptedEngine([
      { text: 'Let me look.', toolCalls: [{ name: 'lookup', arguments: { q: 'baton relay' } }] },
      'The baton is passed between runners in a relay race.',
    ]);
    const stream = new Agent({ engine, tools: [lookup] }).stream('What is a baton?');
    const events: AgentStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const result = await stream.result;

    expect(provider.calls.every((c) => c.method === 'stream')).toBe(true);
    const kinds = events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]);
    expect(kinds).toEqual([
      'run-start',
      'turn-start',
      'text-delta',
      'tool-call-start',
      'tool-call-delta',
      'tool-call',
      'turn-finish',
      'tool-result',
      'turn-start',
      'text-delta',
      'turn-finish',
      'run-finish',
    ]);
    const deltas = (turn: number) => events.flatMap((e) => (e.type === 'text-delta' && e.turn === turn ? [e.delta] : []));
    expect(deltas(1).join('')).toBe('Let me look.');
    expect(deltas(2).length).toBeGreaterThan(5);
    expect(deltas(2).join('')).toBe(result.text);
    const args = events.flatMap((e) => (e.type === 'tool-call-delta' ? [e.argumentsDelta] : [])).join('');
    expect(JSON.parse(args)).toEqual({ q: 'baton relay' });
    const toolResult = events.find((e) => e.type === 'tool-result');
    expect(toolResult).toMatchObject({ result: { type: 'output', content: 'result for baton relay' } });
    const last = events.at(-1);
    expect(last?.type === 'run-finish' && last.result).toBe(result);
  });

  it('fills in the text and tool calls of a response a middleware answered without streaming', async () => {
    const recorded: ModelResponse[] = [
      { text: '', toolCalls: [{ id: 'r1', name: 'lookup', arguments: '{"q":"x"}' }], finishReason: 'tool-calls', usage: usage(5), provider: 'rec', model: 'm' },
      { text: 'from the recording', toolCalls: [], finishReason: 'stop', usage: usage(5), provider: 'rec', model: 'm' },
    ];
    const replay: AgentMiddleware = { name: 'replay', model: async (ctx) => recorded[ctx.turn - 1]! };
    const { engine, provider } = scriptedEngine([]);
    const stream = new Agent({ engine, tools: [lookup], middleware: [replay] }).stream('go');
    const events: AgentStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    expect(provider.calls).toHaveLength(0);
    expect(events.filter((e) => e.type === 'tool-call')).toHaveLength(1);
    expect(events.flatMap((e) => (e.type === 'text-delta' ? [e.delta] : [])).join('')).toBe('from the recording');
    expect((await stream.result).text).toBe('from the recording');
  });

  it('lets a consumer stop iterating early without cancelling the run', async () => {
    const { engine } = scriptedEngine(['a b c d e f']);
    const stream = new Agent({ engine }).stream('go');
    for await (const e of stream) if (e.type === 'text-delta') break;
    expect((await stream.result).text).toBe('a b c d e f');
    expect(() => stream[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it('ends promptly with AbortError when aborted mid-stream, in the iteration and the result', async () => {
    const { engine } = scriptedEngine(['one two three four five six seven eight nine ten'], { tokenDelayMs: 5 });
    const controller = new AbortController();
    const stream = new Agent({ engine }).stream('count', { signal: controller.signal });
    const deltas: string[] = [];
    let caught: unknown;
    const t0 = performance.now();
    try {
      for await (const e of stream) {
        if (e.type !== 'text-delta') continue;
        deltas.push(e.delta);
        if (deltas.length === 3) controller.abort();
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AbortError);
    await expect(stream.result).rejects.toBeInstanceOf(AbortError);
    expect(deltas).toHaveLength(3);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('ends promptly with AbortError even when the model ignores the signal', async () => {
    const { engine } = scriptedEngine([{ text: 'slow', delayMs: 10_000 }], { ignoreAbort: true });
    const controller = new AbortController();
    const run = new Agent({ engine }).run('x', { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    const t0 = performance.now();
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('aborts a running tool through its signal', async () => {
    let toolSignal: AbortSignal | undefined;
    const wait = defineTool({
      name: 'wait',
      parameters: z.object({}),
      execute: (_a, { signal }) =>
        new Promise((_, reject) => {
          toolSignal = signal;
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    });
    const { engine } = scriptedEngine([{ toolCalls: [{ name: 'wait', arguments: {} }] }, 'never']);
    const controller = new AbortController();
    const run = new Agent({ engine, tools: [wait] }).run('x', { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(toolSignal?.aborted).toBe(true);
  });

  it('rejects an already aborted run without calling the model', async () => {
    const { engine, provider } = scriptedEngine(['x']);
    await expect(new Agent({ engine }).run('x', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(provider.calls).toHaveLength(0);
  });
});

function usage(total: number) {
  return { inputTokens: total, outputTokens: 0, cachedInputTokens: 0, totalTokens: total };
}
