import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  InvalidArgumentError,
  MaxTurnsExceededError,
  ToolArgumentsError,
  ToolExecutionError,
  ToolNotFoundError,
  ToolRepairLimitError,
} from '../errors/index.js';
import { defineTool } from '../tools/define-tool.js';
import type { ToolExecutionContext } from '../tools/types.js';
import { RequestContext } from '../types/request-context.js';
import { Agent } from './agent.js';
import { scriptedEngine } from './scripted-engine.test.helpers.js';

const add = defineTool({
  name: 'add',
  description: 'Adds two numbers',
  parameters: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
});

describe('Agent run loop', () => {
  it('calls the model with the tools, runs the tool, and returns the final answer', async () => {
    const { engine, provider } = scriptedEngine([{ toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }] }, 'The sum is 5.']);
    const agent = new Agent({ engine, instructions: 'You add numbers.', tools: [add], model: 'scripted-x', modelSettings: { temperature: 0 } });
    const result = await agent.run('What is 2 + 3?');

    expect(result.status).toBe('completed');
    expect(result.text).toBe('The sum is 5.');
    expect(result.turns).toBe(2);
    expect(result.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
    expect(result.messages[3]).toEqual({ role: 'tool', toolCallId: 'call_0_0', toolName: 'add', content: '5' });
    const first = provider.calls[0]!.request;
    expect(first.tools).toEqual([add.definition()]);
    expect(first.model).toBe('scripted-x');
    expect(first.temperature).toBe(0);
    expect(first.messages).toEqual([
      { role: 'system', content: 'You add numbers.' },
      { role: 'user', content: 'What is 2 + 3?' },
    ]);
    expect(provider.calls[1]!.request.messages).toHaveLength(4);
    expect(result.steps.map((s) => [s.kind, s.callIndex, s.turn])).toEqual([
      ['model', 0, 1],
      ['tool', 1, 1],
      ['model', 2, 2],
    ]);
    expect(result.steps[1]!.result).toEqual({ type: 'output', output: 5, content: '5' });
    const u0 = result.steps[0]!.response!.usage;
    const u2 = result.steps[2]!.response!.usage;
    expect(result.usage.totalTokens).toBe(u0.totalTokens + u2.totalTokens);
    expect(result.cost.nanoUsd).toBe(result.steps[0]!.response!.cost!.nanoUsd + result.steps[2]!.response!.cost!.nanoUsd);
    expect(result.cost.nanoUsd).toBeGreaterThan(0);
  });

  it('runs parallel tool calls concurrently and appends results in the model order', async () => {
    const started: string[] = [];
    let release!: () => void;
    const bothStarted = new Promise<void>((r) => (release = r));
    const slow = defineTool({
      name: 'slow',
      parameters: z.object({ id: z.string() }),
      execute: async ({ id }) => {
        started.push(id);
        if (started.length === 2) release();
        await bothStarted; // resolves only if both calls are in flight at once
        if (id === 'first') await new Promise((r) => setTimeout(r, 5)); // first finishes last
        return `done ${id}`;
      },
    });
    const { engine } = scriptedEngine([
      { toolCalls: [{ name: 'slow', arguments: { id: 'first' } }, { name: 'slow', arguments: { id: 'second' } }] },
      'ok',
    ]);
    const result = await new Agent({ engine, tools: [slow] }).run('go');
    expect(started).toEqual(['first', 'second']);
    const toolMessages = result.messages.filter((m) => m.role === 'tool');
    expect(toolMessages.map((m) => m.content)).toEqual(['done first', 'done second']);
    // Steps are recorded as calls finish; callIndex keeps the model's order.
    expect(result.steps.filter((s) => s.kind === 'tool').map((s) => [s.callIndex, s.toolCall!.id])).toEqual([
      [2, 'call_0_1'],
      [1, 'call_0_0'],
    ]);
  });

  it('runs tools one after another with parallelToolCalls: false', async () => {
    const log: string[] = [];
    const step = defineTool({
      name: 'step',
      parameters: z.object({ n: z.number() }),
      execute: async ({ n }) => {
        log.push(`start ${n}`);
        await new Promise((r) => setTimeout(r, 1));
        log.push(`end ${n}`);
        return n;
      },
    });
    const { engine } = scriptedEngine([{ toolCalls: [{ name: 'step', arguments: { n: 1 } }, { name: 'step', arguments: { n: 2 } }] }, 'ok']);
    await new Agent({ engine, tools: [step], parallelToolCalls: false }).run('go');
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('assigns deterministic callIndexes and idempotency keys, the same on a replay', async () => {
    const seen: Array<[string, number, string]> = [];
    const record = defineTool({
      name: 'record',
      parameters: z.object({ delayMs: z.number() }),
      execute: async ({ delayMs }, ctx: ToolExecutionContext) => {
        await new Promise((r) => setTimeout(r, delayMs));
        seen.push([ctx.toolCallId, delayMs, ctx.idempotencyKey]);
        return 'ok';
      },
    });
    const script = [
      { toolCalls: [{ name: 'record', arguments: { delayMs: 6 } }, { name: 'record', arguments: { delayMs: 0 } }, { name: 'record', arguments: { delayMs: 3 } }] },
      { toolCalls: [{ name: 'record', arguments: { delayMs: 0 } }] },
      'done',
    ];
    const indexes = async () => {
      const { engine } = scriptedEngine(script);
      const r = await new Agent({ engine, tools: [record] }).run('go', { context: RequestContext.create({ jobId: 'job-7' }) });
      return r.steps.map((s) => `${s.kind}:${s.callIndex}:${s.toolCall?.id ?? ''}`).sort();
    };
    const a = await indexes();
    const b = await indexes();
    expect(a).toEqual(b);
    expect(a).toEqual(['model:0:', 'model:4:', 'model:6:', 'tool:1:call_0_0', 'tool:2:call_0_1', 'tool:3:call_0_2', 'tool:5:call_1_0'].sort());
    const keys = Object.fromEntries(seen.map(([id, , key]) => [id, key]));
    expect(keys).toMatchObject({ call_0_0: 'job-7:1', call_0_1: 'job-7:2', call_0_2: 'job-7:3', call_1_0: 'job-7:5' });
  });

  it('defaults the tool idempotency key to requestId:callIndex without a job', async () => {
    let key = '';
    const t = defineTool({ name: 't', parameters: z.object({}), execute: (_args, ctx) => (key = ctx.idempotencyKey) });
    const { engine } = scriptedEngine([{ toolCalls: [{ name: 't', arguments: {} }] }, 'ok']);
    await new Agent({ engine, tools: [t] }).run('go', { context: RequestContext.create({ requestId: 'req-1' }) });
    expect(key).toBe('req-1:1');
  });

  it('keys model calls by jobId:callIndex, so a rerun of the same job is answered by the engine, not the provider', async () => {
    const { engine, provider } = scriptedEngine([{ toolCalls: [{ name: 'add', arguments: { a: 1, b: 1 } }] }, 'two'], { loop: true });
    const agent = new Agent({ engine, tools: [add] });
    const context = RequestContext.create({ jobId: 'job-42' });
    const first = await agent.run('1 + 1?', { context });
    const again = await agent.run('1 + 1?', { context });
    expect(again.text).toBe(first.text);
    expect(provider.calls).toHaveLength(2);
    await agent.run('1 + 1?'); // no job: fresh calls
    expect(provider.calls).toHaveLength(4);
  });

  it('sends invalid JSON and schema violations back to the model, which repairs them', async () => {
    let executed = 0;
    const counted = defineTool({ ...add, name: 'add', parameters: add.parameters, execute: (args: { a: number; b: number }) => (executed++, args.a + args.b) });
    const { engine, provider } = scriptedEngine([
      { toolCalls: [{ name: 'add', arguments: '{"a": 1, "b": ' }] },
      { toolCalls: [{ name: 'add', arguments: { a: '1', b: 2 } }] },
      { toolCalls: [{ name: 'add', arguments: { a: 1, b: 2 } }] },
      'It is 3.',
    ]);
    const result = await new Agent({ engine, tools: [counted], maxToolRepairs: 2 }).run('1 + 2?');
    expect(result.text).toBe('It is 3.');
    expect(executed).toBe(1);
    const tools = result.messages.filter((m) => m.role === 'tool');
    expect(tools[0]).toMatchObject({ isError: true, content: expect.stringMatching(/not valid JSON/) });
    expect(tools[1]).toMatchObject({ isError: true, content: expect.stringMatching(/a: expected number, received string/) });
    expect(tools[2]).toEqual({ role: 'tool', toolCallId: 'call_2_0', toolName: 'add', content: '3' });
    expect(provider.calls[1]!.request.messages.at(-1)).toMatchObject({ role: 'tool', isError: true });
    const invalid = result.steps.find((s) => s.kind === 'tool')!.result!;
    expect(invalid.type === 'error' && invalid.error).toBeInstanceOf(ToolArgumentsError);
  });

  it('gives up with ToolRepairLimitError past maxToolRepairs, without calling execute', async () => {
    let executed = 0;
    const t = defineTool({ name: 'add', parameters: add.parameters, execute: () => executed++ });
    const bad = { toolCalls: [{ name: 'add', arguments: { a: 'x' } }] };
    const { engine } = scriptedEngine([bad, bad, bad, 'never']);
    const error = await new Agent({ engine, tools: [t], maxToolRepairs: 2 }).run('go').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolRepairLimitError);
    expect((error as ToolRepairLimitError).attempts).toBe(3);
    expect(executed).toBe(0);
  });

  it('answers an unknown tool with a tool error naming the available tools', async () => {
    const { engine } = scriptedEngine([{ toolCalls: [{ name: 'nope', arguments: {} }] }, 'sorry']);
    const result = await new Agent({ engine, tools: [add] }).run('go');
    expect(result.text).toBe('sorry');
    expect(result.messages[2]).toMatchObject({ role: 'tool', isError: true, content: "Error: Unknown tool 'nope'. Available tools: add." });
    const step = result.steps[1]!.result!;
    expect(step.type === 'error' && step.error).toBeInstanceOf(ToolNotFoundError);
  });

  it('turns a throwing tool into a tool error for the model and keeps the error in the step', async () => {
    const boom = defineTool({
      name: 'boom',
      parameters: z.object({}),
      execute: () => {
        throw new Error('disk full');
      },
    });
    const { engine } = scriptedEngine([{ toolCalls: [{ name: 'boom', arguments: {} }] }, 'I could not do it.']);
    const result = await new Agent({ engine, tools: [boom] }).run('go');
    expect(result.text).toBe('I could not do it.');
    expect(result.messages[2]).toMatchObject({ role: 'tool', isError: true, content: 'Error: disk full' });
    const step = result.steps[1]!.result!;
    expect(step.type).toBe('error');
    if (step.type !== 'error') return;
    expect(step.error).toBeInstanceOf(ToolExecutionError);
    expect((step.error as ToolExecutionError).cause).toBeInstanceOf(Error);
  });

  it('stops with MaxTurnsExceededError when the model keeps calling tools', async () => {
    const again = { toolCalls: [{ name: 'add', arguments: { a: 1, b: 1 } }] };
    const { engine, provider } = scriptedEngine([again, again, again, again], { loop: true });
    const error = await new Agent({ engine, tools: [add], maxTurns: 3 }).run('loop').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MaxTurnsExceededError);
    expect(provider.calls).toHaveLength(3);
  });

  it('places history between the instructions and the input', async () => {
    const { engine, provider } = scriptedEngine(['hi again']);
    await new Agent({ engine, instructions: 'sys' }).run([{ role: 'user', content: 'now' }], {
      history: [
        { role: 'user', content: 'before' },
        { role: 'assistant', content: 'ok' },
      ],
    });
    expect(provider.calls[0]!.request.messages.map((m) => m.content)).toEqual(['sys', 'before', 'ok', 'now']);
    expect(provider.calls[0]!.request.tools).toBeUndefined();
  });

  it('validates its options at once', async () => {
    const { engine } = scriptedEngine([]);
    expect(() => new Agent({ engine: {} as never })).toThrow(InvalidArgumentError);
    expect(() => new Agent({ engine, tools: [add, add] })).toThrow(/duplicate tool name 'add'/);
    expect(() => new Agent({ engine, maxTurns: 0 })).toThrow(InvalidArgumentError);
    expect(() => new Agent({ engine, maxToolRepairs: -1 })).toThrow(InvalidArgumentError);
    expect(() => new Agent({ engine, budget: { maxTokens: -5 } })).toThrow(InvalidArgumentError);
    expect(() => new Agent({ engine, budget: { maxCostUsd: '1.2.3' } })).toThrow(InvalidArgumentError);
    expect(() => new Agent({ engine, middleware: [{ name: '' }] })).toThrow(InvalidArgumentError);
    expect(() => new Agent({ engine, modelSettings: { temprature: 1 } as never })).toThrow(/temprature/);
    const agent = new Agent({ engine });
    await expect(agent.run(42 as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(agent.run('x', { budget: { maxTurns: 'two' as never } })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => agent.stream('x', { middleware: 'no' as never })).toThrow(InvalidArgumentError);
  });
});
