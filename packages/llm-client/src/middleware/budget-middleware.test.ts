import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent } from '../agent/agent.js';
import { scriptedEngine } from '../agent/scripted-engine.test.helpers.js';
import { BudgetExceededError } from '../errors/index.js';
import { defineTool } from '../tools/define-tool.js';
import { budgetMiddleware } from './budget-middleware.js';

const ping = defineTool({ name: 'ping', parameters: z.object({}), execute: () => 'pong' });
const pings = (n: number) => ({ toolCalls: Array.from({ length: n }, () => ({ name: 'ping', arguments: {} })) });

async function budgetError(run: Promise<unknown>): Promise<BudgetExceededError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BudgetExceededError);
  return error as BudgetExceededError;
}

describe('budget middleware', () => {
  it('stops before the model call once the run has used its tokens', async () => {
    const { engine, provider } = scriptedEngine([{ ...pings(1), usage: { totalTokens: 60 } }, { ...pings(1), usage: { totalTokens: 60 } }, 'never'], {});
    const error = await budgetError(new Agent({ engine, tools: [ping], budget: { maxTokens: 100 } }).run('x'));
    expect(error).toMatchObject({ budget: 'tokens', limit: 100, used: 120 });
    expect(provider.calls).toHaveLength(2);
  });

  it('stops at the turn budget', async () => {
    const { engine, provider } = scriptedEngine([pings(1), pings(1), pings(1), 'never']);
    const error = await budgetError(new Agent({ engine, tools: [ping] }).run('x', { budget: { maxTurns: 2 } }));
    expect(error).toMatchObject({ budget: 'turns', limit: 2, used: 2 });
    expect(provider.calls).toHaveLength(2);
  });

  it('stops at the tool-call budget, admitting parallel calls one by one', async () => {
    let executed = 0;
    const counted = defineTool({ name: 'ping', parameters: z.object({}), execute: () => (executed++, 'pong') });
    const { engine } = scriptedEngine([pings(2), pings(3), 'never']);
    const error = await budgetError(new Agent({ engine, tools: [counted], budget: { maxToolCalls: 4 } }).run('x'));
    expect(error).toMatchObject({ budget: 'toolCalls', limit: 4, used: 4 });
    expect(executed).toBe(4);
  });

  it('stops once the run has spent its cost budget (decimal string, priced by the engine)', async () => {
    // scripted:* is priced at 1 USD per million input tokens and 2 per million output tokens.
    const step = { ...pings(1), usage: { inputTokens: 100_000, outputTokens: 0, totalTokens: 100_000 } };
    const { engine, provider } = scriptedEngine([step, step, step, 'never']);
    const error = await budgetError(new Agent({ engine, tools: [ping], budget: { maxCostUsd: '0.25' } }).run('x'));
    expect(error).toMatchObject({ budget: 'cost', limit: 0.25 });
    expect(error.used).toBeCloseTo(0.3);
    expect(provider.calls).toHaveLength(3);
  });

  it('stops when the run has been going for its runtime budget (injected clock)', async () => {
    let now = 1_000;
    const tick = defineTool({ name: 'ping', parameters: z.object({}), execute: () => ((now += 400), 'pong') });
    const { engine } = scriptedEngine([pings(1), pings(1), 'never']);
    const agent = new Agent({ engine, tools: [tick], budget: { maxRuntimeMs: 700 }, _internal: { now: () => now } });
    const error = await budgetError(agent.run('x'));
    expect(error).toMatchObject({ budget: 'runtime', limit: 700, used: 800 });
  });

  it('a run budget overrides the agent budget field by field; a fixed budget ignores both', async () => {
    const { engine } = scriptedEngine([pings(1), 'done'], { loop: true });
    const agent = new Agent({ engine, tools: [ping], budget: { maxTurns: 1, maxTokens: 1_000_000 } });
    await budgetError(agent.run('x'));
    expect((await agent.run('x', { budget: { maxTurns: 5 } })).status).toBe('completed');
    const fixed = new Agent({ engine, tools: [ping], useDefaultMiddleware: false, middleware: [budgetMiddleware({ budget: { maxToolCalls: 0 } })] });
    expect(await budgetError(fixed.run('x'))).toMatchObject({ budget: 'toolCalls' });
  });
});
