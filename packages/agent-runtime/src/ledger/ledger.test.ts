import { describe, expect, it } from 'vitest';
import type { ExecutionContext } from '../context/execution-context.js';
import { InMemoryLedgerWriter } from './in-memory-ledger-writer.js';
import { Ledger, type BudgetEvent } from './ledger.js';
import { parseUsdToNano } from './money.js';

const T0 = Date.UTC(2030, 4, 1, 9, 0, 0);
const usage = (input: number, output: number) => ({ inputTokens: input, outputTokens: output, cachedInputTokens: 0, totalTokens: input + output });

function setup(budget: { dailyTokens?: number; dailyCostUsd?: string | number; warnAt?: number } = {}) {
  let clock = T0;
  let ids = 0;
  const events: BudgetEvent[] = [];
  const writer = new InMemoryLedgerWriter();
  const ledger = new Ledger({ writer, budgets: [{ scopeId: 'acme', ...budget }], now: () => clock, generateId: () => `id-${++ids}`, onEvent: (e) => events.push(e) });
  const job = (jobId: string): ExecutionContext => ({ scopeId: 'acme', principalId: 'u', jobId, budgets: {} });
  return { ledger, writer, events, job, advance: (ms: number) => (clock += ms) };
}

describe('money', () => {
  it('parses USD exactly into nano-USD', () => {
    expect(parseUsdToNano('0.1')).toBe(100_000_000);
    expect(parseUsdToNano(0.1)).toBe(100_000_000);
    expect(parseUsdToNano('12.000000001')).toBe(12_000_000_001);
    expect(() => parseUsdToNano('1e-7')).toThrow(/at most 9 decimals/);
    expect(() => parseUsdToNano('-1')).toThrow();
    expect(() => parseUsdToNano('0.0000000001')).toThrow();
  });
});

describe('Ledger', () => {
  it('lets exactly one of two concurrent jobs of one scope into a budget that fits one', async () => {
    const { ledger, job } = setup({ dailyTokens: 1_500 });
    const [a, b] = await Promise.all([ledger.checkBudget(job('job-a'), 1_000), ledger.checkBudget(job('job-b'), 1_000)]);
    expect([a.decision, b.decision].sort()).toEqual(['allow', 'deny'].sort());
    const denied = a.decision === 'deny' ? a : b;
    expect(denied).toMatchObject({ budget: 'daily_tokens', remaining: { tokens: 500 }, reason: expect.stringContaining('1000 reserved') });
  });

  it('settles with the real usage and gives the unused part back', async () => {
    const { ledger, job } = setup({ dailyTokens: 1_000, dailyCostUsd: '1.00' });
    const first = await ledger.checkBudget(job('job-a'), 800, parseUsdToNano('0.50'));
    expect(first).toMatchObject({ decision: 'warn', remaining: { tokens: 200, costUsd: '0.500000000' } });
    const blocked = await ledger.checkBudget(job('job-b'), 500);
    expect(blocked.decision).toBe('deny');
    if (first.decision === 'deny') throw new Error('unreachable');
    const settlement = await ledger.recordModelUsage(first, usage(150, 50), { nanoUsd: 120_000_000, usd: '0.12' }, { provider: 'openai', model: 'gpt-4o' });
    expect(settlement).toMatchObject({ kind: 'settlement', totalTokens: 200, costNanoUsd: 120_000_000, jobId: 'job-a', reservationId: first.reservationId });
    const second = await ledger.checkBudget(job('job-b'), 500);
    expect(second).toMatchObject({ decision: 'allow', remaining: { tokens: 300 } });
    const day = await ledger.usage({ scopeId: 'acme' });
    expect(day).toMatchObject({ day: '2030-05-01', usedTokens: 200, usedCostUsd: '0.120000000', reservedTokens: 500, budget: { dailyTokens: 1_000, dailyCostUsd: '1.000000000' } });
    await expect(ledger.recordModelUsage(first, usage(1, 1), 0)).rejects.toMatchObject({ code: 'reservation_closed' });
  });

  it('releases a reservation on failure, once', async () => {
    const { ledger, job } = setup({ dailyTokens: 1_000 });
    const held = await ledger.checkBudget(job('job-a'), 1_000);
    if (held.decision === 'deny') throw new Error('expected a reservation');
    expect((await ledger.checkBudget(job('job-b'), 1)).decision).toBe('deny');
    expect(await ledger.release(held)).toBe(true);
    expect(await ledger.release(held)).toBe(false);
    expect((await ledger.checkBudget(job('job-b'), 1_000)).decision).not.toBe('deny');
    expect((await ledger.listByJob({ scopeId: 'acme', jobId: 'job-a' })).map((e) => e.kind)).toEqual(['reservation', 'release']);
  });

  it("stops counting a crashed job's reservation once it lapses", async () => {
    const { ledger, job, advance } = setup({ dailyTokens: 1_000 });
    await ledger.checkBudget(job('crashed'), 1_000);
    expect((await ledger.checkBudget(job('next'), 10)).decision).toBe('deny');
    advance(10 * 60_000);
    expect((await ledger.checkBudget(job('next'), 10)).decision).toBe('allow');
  });

  it('denies on the cost budget with exact money and reports budget events', async () => {
    const { ledger, job, events } = setup({ dailyCostUsd: '0.30', warnAt: 0.5 });
    expect((await ledger.checkBudget(job('a'), 0, parseUsdToNano('0.10'))).decision).toBe('allow');
    expect((await ledger.checkBudget(job('a'), 0, parseUsdToNano('0.10'))).decision).toBe('warn');
    expect((await ledger.checkBudget(job('a'), 0, parseUsdToNano('0.10'))).decision).toBe('warn');
    const denied = await ledger.checkBudget(job('a'), 0, 1);
    expect(denied).toMatchObject({ decision: 'deny', budget: 'daily_cost', remaining: { costNanoUsd: 0, costUsd: '0.000000000' } });
    expect(events.map((e) => e.type)).toEqual(['budget.warning', 'budget.warning', 'budget.exceeded']);
    await expect(ledger.reserveOrThrow(job('a'), 0, 1)).rejects.toMatchObject({ code: 'scope_budget_exceeded', budget: 'daily_cost' });
  });

  it('starts afresh on a new UTC day, and a scope without budget is unlimited', async () => {
    const { ledger, job, advance } = setup({ dailyTokens: 100 });
    const held = await ledger.checkBudget(job('a'), 100);
    if (held.decision === 'deny') throw new Error('expected a reservation');
    await ledger.recordModelUsage(held, usage(60, 40));
    expect((await ledger.checkBudget(job('a'), 1)).decision).toBe('deny');
    advance(24 * 3_600_000);
    expect((await ledger.checkBudget(job('a'), 100)).decision).toBe('warn');
    const free = await ledger.checkBudget({ scopeId: 'other', principalId: 'u', budgets: {} }, 1_000_000);
    expect(free).toMatchObject({ decision: 'allow', remaining: {} });
  });

  it('records usage without a reservation, and adjustments', async () => {
    const { ledger, job } = setup();
    await ledger.recordUsage({ ctx: job('a'), kind: 'tool_usage', cost: parseUsdToNano('0.002') });
    await ledger.recordUsage({ ctx: job('a'), kind: 'adjustment', cost: -parseUsdToNano('0.001') });
    expect((await ledger.usage({ scopeId: 'acme' })).usedCostUsd).toBe('0.001000000');
    await expect(ledger.recordUsage({ ctx: job('a'), kind: 'tool_usage', cost: 0.5 })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'cost' });
  });

  it('rejects bad input at once', async () => {
    const { ledger, job } = setup();
    await expect(ledger.checkBudget(job('a'), -1)).rejects.toMatchObject({ argument: 'pendingTokens' });
    await expect(ledger.checkBudget(job('a'), 1, 0.5)).rejects.toMatchObject({ argument: 'pendingCostNanoUsd' });
    await expect(ledger.recordModelUsage({ scopeId: 'acme', reservationId: 'nope' }, usage(1, 1))).rejects.toMatchObject({ code: 'reservation_not_found' });
    await expect(ledger.release({ scopeId: 'other', reservationId: 'id-1' })).rejects.toMatchObject({ code: 'reservation_not_found' });
    expect(() => ledger.setBudget({ scopeId: 'x', dailyCostUsd: '1.5.0' })).toThrow(expect.objectContaining({ argument: 'budget.dailyCostUsd' }));
    expect(() => ledger.setBudget({ scopeId: 'x', warnAt: 2 })).toThrow(expect.objectContaining({ argument: 'budget.warnAt' }));
  });
});
