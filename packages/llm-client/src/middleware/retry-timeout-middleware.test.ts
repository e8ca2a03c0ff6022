import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent } from '../agent/agent.js';
import type { AgentMiddleware } from '../agent/types.js';
import { scriptedEngine } from '../agent/scripted-engine.test.helpers.js';
import { RateLimitError, TimeoutError, ToolExecutionError } from '../errors/index.js';
import type { EngineCallOptions, ModelExecutor } from '../engine/types.js';
import { defineTool } from '../tools/define-tool.js';
import type { ModelRequest } from '../types/model.js';
import { retryMiddleware } from './retry-middleware.js';
import { timeoutMiddleware } from './timeout-middleware.js';

const call = (name: string) => ({ toolCalls: [{ name, arguments: {} }] });

describe('retry middleware', () => {
  it('retries a tool that failed with a retryable error, with the same idempotency key', async () => {
    const keys: string[] = [];
    const flaky = defineTool({
      name: 'flaky',
      parameters: z.object({}),
      execute: (_a, { idempotencyKey }) => {
        keys.push(idempotencyKey);
        if (keys.length < 3) throw new RateLimitError({ message: 'slow down', provider: 'crm' });
        return 'ok';
      },
    });
    const delays: number[] = [];
    const { engine } = scriptedEngine([call('flaky'), 'done']);
    const agent = new Agent({ engine, tools: [flaky], defaultMiddleware: { toolRetry: { initialDelayMs: 4, random: () => 0.5, onRetry: ({ delayMs }) => delays.push(delayMs) } } });
    const result = await agent.run('x');
    expect(result.messages[2]).toMatchObject({ role: 'tool', content: 'ok' });
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(delays).toEqual([2, 4]);
  });

  it('does not retry non-retryable errors, tools that opt out, or past maxRetries', async () => {
    let plain = 0;
    let optedOut = 0;
    let always = 0;
    const tools = [
      defineTool({ name: 'plain', parameters: z.object({}), execute: () => { plain++; throw new Error('bad input'); } }),
      defineTool({ name: 'opted_out', parameters: z.object({}), metadata: { retry: false }, execute: () => { optedOut++; throw new TimeoutError(1); } }),
      defineTool({ name: 'always', parameters: z.object({}), execute: () => { always++; throw new TimeoutError(1); } }),
    ];
    const { engine } = scriptedEngine([{ toolCalls: tools.map((t) => ({ name: t.name, arguments: {} })) }, 'done']);
    const agent = new Agent({ engine, tools, useDefaultMiddleware: false, middleware: [retryMiddleware({ maxRetries: 2, initialDelayMs: 1 })] });
    const result = await agent.run('x');
    expect([plain, optedOut, always]).toEqual([1, 1, 3]);
    const last = result.steps.filter((s) => s.kind === 'tool').map((s) => s.result!);
    expect(last.every((r) => r.type === 'error' && r.error instanceof ToolExecutionError)).toBe(true);
  });
});

describe('timeout middleware', () => {
  it('turns a tool past its timeout into a TimeoutError for the model and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const hang = defineTool({
      name: 'hang',
      parameters: z.object({}),
      execute: (_a, ctx) => {
        signal = ctx.signal;
        return new Promise(() => undefined);
      },
    });
    const { engine } = scriptedEngine([call('hang'), 'gave up']);
    const agent = new Agent({ engine, tools: [hang], defaultMiddleware: { toolTimeoutMs: 10, toolRetry: false } });
    const result = await agent.run('x');
    expect(result.text).toBe('gave up');
    expect(result.messages[2]).toMatchObject({ role: 'tool', isError: true, content: "Error: Tool 'hang' timed out after 10 ms" });
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(TimeoutError);
  });

  it('hands the model timeout to the engine, unless a call already has one', async () => {
    const seen: Array<number | undefined> = [];
    const spied = (): ModelExecutor => {
      const { engine } = scriptedEngine(['a']);
      return { model: engine.model, stream: engine.stream, complete: (spec: ModelRequest, opts?: EngineCallOptions) => (seen.push(opts?.timeoutMs), engine.complete(spec, opts)) };
    };
    await new Agent({ engine: spied(), useDefaultMiddleware: false, middleware: [timeoutMiddleware({ modelTimeoutMs: 1234 })] }).run('x');
    const preset: AgentMiddleware = { name: 'preset', model: (ctx, next) => ((ctx.timeoutMs = 50), next(ctx)) };
    await new Agent({ engine: spied(), useDefaultMiddleware: false, middleware: [preset, timeoutMiddleware({ modelTimeoutMs: 1234 })] }).run('x');
    expect(seen).toEqual([1234, 50]);
  });
});
