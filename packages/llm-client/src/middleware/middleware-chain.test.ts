import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent } from '../agent/agent.js';
import { scriptedEngine } from '../agent/scripted-engine.test.helpers.js';
import type { AgentMiddleware, ModelCallContext, ToolCallContext, ToolResult } from '../agent/types.js';
import { TimeoutError } from '../errors/index.js';
import { defineTool } from '../tools/define-tool.js';
import type { ModelResponse } from '../types/model.js';
import { RequestContext } from '../types/request-context.js';

const echo = defineTool({ name: 'echo', parameters: z.object({ v: z.string() }), execute: ({ v }) => v });

function tracer(name: string, log: string[]): AgentMiddleware {
  return {
    name,
    async model(ctx, next) {
      log.push(`${name}>model`);
      const r = await next(ctx);
      log.push(`${name}<model`);
      return r;
    },
    async tool(ctx, next) {
      log.push(`${name}>tool`);
      const r = await next(ctx);
      log.push(`${name}<tool`);
      return r;
    },
  };
}

describe('middleware chain', () => {
  it('wraps model and tool calls as an onion: agent middleware outside the run middleware', async () => {
    const log: string[] = [];
    const tool = defineTool({ name: 'echo', parameters: echo.parameters, execute: ({ v }: { v: string }) => (log.push('execute'), v) });
    const { engine } = scriptedEngine([{ toolCalls: [{ name: 'echo', arguments: { v: 'x' } }] }, 'done']);
    const agent = new Agent({ engine, tools: [tool], middleware: [tracer('a', log), tracer('b', log)] });
    await agent.run('go', { middleware: [tracer('run', log)] });
    expect(log).toEqual([
      'a>model', 'b>model', 'run>model', 'run<model', 'b<model', 'a<model',
      'a>tool', 'b>tool', 'run>tool', 'execute', 'run<tool', 'b<tool', 'a<tool',
      'a>model', 'b>model', 'run>model', 'run<model', 'b<model', 'a<model',
    ]);
  });

  it('accepts answers from a recording without calling next: the provider and the tool are not called', async () => {
    const recorded = new Map<number, ModelResponse | ToolResult>([
      [0, { text: '', toolCalls: [{ id: 'rec-1', name: 'echo', arguments: '{"v":"hi"}' }], finishReason: 'tool-calls', usage: usage(7), provider: 'scripted', model: 'scripted-1', cost: { nanoUsd: 70, usd: '0.000000070' } }],
      [1, { type: 'output', output: 'hi', content: 'hi (recorded)' }],
      [2, { text: 'recorded answer', toolCalls: [], finishReason: 'stop', usage: usage(3), provider: 'scripted', model: 'scripted-1' }],
    ]);
    let executed = 0;
    const tool = defineTool({ name: 'echo', parameters: echo.parameters, execute: () => executed++ });
    const replay: AgentMiddleware = {
      name: 'replay',
      model: async (ctx: ModelCallContext, next) => (recorded.get(ctx.callIndex) as ModelResponse | undefined) ?? next(ctx),
      tool: async (ctx: ToolCallContext, next) => (recorded.get(ctx.callIndex) as ToolResult | undefined) ?? next(ctx),
    };
    const { engine, provider } = scriptedEngine([]);
    const result = await new Agent({ engine, tools: [tool], middleware: [replay] }).run('go');
    expect(provider.calls).toHaveLength(0);
    expect(executed).toBe(0);
    expect(result.text).toBe('recorded answer');
    expect(result.messages[2]).toEqual({ role: 'tool', toolCallId: 'rec-1', toolName: 'echo', content: 'hi (recorded)' });
    expect(result.usage.totalTokens).toBe(10);
    expect(result.cost).toEqual({ nanoUsd: 70, usd: '0.000000070' });
  });

  it('a suspend result stops the run cleanly, keeps the messages, and a rerun replays and continues', async () => {
    const journal = new Map<number, ModelResponse | ToolResult>();
    let approved = false;
    let sent = 0;
    const send = defineTool({ name: 'send_money', parameters: z.object({ to: z.string() }), metadata: { needsApproval: true }, execute: ({ to }) => (sent++, `sent to ${to}`) });
    const journaling: AgentMiddleware = {
      name: 'journal',
      async model(ctx, next) {
        const hit = journal.get(ctx.callIndex) as ModelResponse | undefined;
        if (hit) return hit;
        const r = await next(ctx);
        journal.set(ctx.callIndex, r);
        return r;
      },
      async tool(ctx, next) {
        const hit = journal.get(ctx.callIndex) as ToolResult | undefined;
        if (hit) return hit;
        const r = await next(ctx);
        if (r.type !== 'suspend') journal.set(ctx.callIndex, r);
        return r;
      },
    };
    const approval: AgentMiddleware = {
      name: 'approval',
      tool: async (ctx, next) => (ctx.tool.metadata.needsApproval && !approved ? { type: 'suspend', reason: 'needs approval', data: { args: ctx.args } } : next(ctx)),
    };
    const { engine, provider } = scriptedEngine([
      { toolCalls: [{ name: 'send_money', arguments: { to: 'bob' } }, { name: 'echo', arguments: { v: 'note' } }] },
      'Sent.',
    ]);
    const agent = new Agent({ engine, tools: [send, echo], middleware: [journaling, approval] });
    const context = RequestContext.create({ jobId: 'job-1' });

    const first = await agent.run('pay bob', { context });
    expect(first.status).toBe('suspended');
    expect(first.text).toBe('');
    expect(first.suspension).toEqual({ toolCall: { id: 'call_0_0', name: 'send_money', arguments: '{"to":"bob"}' }, reason: 'needs approval', data: { args: { to: 'bob' } } });
    expect(first.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(sent).toBe(0);

    approved = true;
    const second = await agent.run('pay bob', { context });
    expect(second.status).toBe('completed');
    expect(second.text).toBe('Sent.');
    expect(sent).toBe(1);
    expect(provider.calls).toHaveLength(2); // the first model call came from the journal
  });

  it('puts your middleware outside retry: a journal records the final outcome once and replays it without retrying', async () => {
    const journal = new Map<number, ToolResult>();
    const seen: string[] = [];
    const journaling: AgentMiddleware = {
      name: 'journal',
      async tool(ctx, next) {
        const hit = journal.get(ctx.callIndex);
        if (hit) return (seen.push('replayed'), hit);
        const r = await next(ctx);
        seen.push(`recorded ${r.type}`);
        journal.set(ctx.callIndex, r);
        return r;
      },
    };
    let attempts = 0;
    const flaky = defineTool({ name: 'flaky', parameters: z.object({}), execute: () => { attempts++; throw new TimeoutError(5, 'upstream'); } });
    const script = [{ toolCalls: [{ name: 'flaky', arguments: {} }] }, 'gave up'];
    const agentFor = () => new Agent({ engine: scriptedEngine(script).engine, tools: [flaky], middleware: [journaling], defaultMiddleware: { toolRetry: { maxRetries: 2, initialDelayMs: 1 } } });
    await agentFor().run('x');
    expect(attempts).toBe(3);
    expect(seen).toEqual(['recorded error']);
    await agentFor().run('x');
    expect(attempts).toBe(3);
    expect(seen).toEqual(['recorded error', 'replayed']);
  });

  it('useDefaultMiddleware: false leaves only your middleware (no budget checks)', async () => {
    const { engine } = scriptedEngine(['a', 'b'], { loop: true });
    const withDefaults = new Agent({ engine, budget: { maxTokens: 0 } });
    await expect(withDefaults.run('x')).rejects.toMatchObject({ code: 'budget_exceeded' });
    expect(withDefaults.middleware.map((m) => m.name)).toEqual(['logging', 'budget', 'retry', 'timeout']);
    const mixed = new Agent({ engine, middleware: [{ name: 'mine' }] });
    expect(mixed.middleware.map((m) => m.name)).toEqual(['logging', 'budget', 'mine', 'retry', 'timeout']);
    const bare = new Agent({ engine, budget: { maxTokens: 0 }, useDefaultMiddleware: false, middleware: [{ name: 'mine' }] });
    expect(bare.middleware.map((m) => m.name)).toEqual(['mine']);
    expect((await bare.run('x')).status).toBe('completed');
  });
});

function usage(total: number) {
  return { inputTokens: total, outputTokens: 0, cachedInputTokens: 0, totalTokens: total };
}
