import type { BudgetSpec } from '../context/execution-context.js';
import type { JournalEntry } from '../journal/journal-entry.js';

/** What a job consumed, read from its journal (children included, through their journaled results). */
export interface JobUsage {
  tokens: number;
  costNanoUsd: number;
  toolCalls: number;
  modelCalls: number;
}

export const NO_USAGE: Readonly<JobUsage> = Object.freeze({ tokens: 0, costNanoUsd: 0, toolCalls: 0, modelCalls: 0 });

/**
 * Sums a journal's consumption: each model step's usage and cost, each tool step, and the
 * usage that finished child-job steps recorded for their whole subtree.
 */
export function journalUsage(entries: readonly JournalEntry[]): JobUsage {
  const total: JobUsage = { ...NO_USAGE };
  for (const e of entries) {
    if (e.status !== 'completed') continue;
    const out = e.output as Record<string, unknown> | null | undefined;
    if (e.kind === 'model') {
      total.modelCalls++;
      const usage = out?.['usage'] as { totalTokens?: unknown } | undefined;
      const cost = out?.['cost'] as { nanoUsd?: unknown } | undefined;
      if (typeof usage?.totalTokens === 'number') total.tokens += usage.totalTokens;
      if (typeof cost?.nanoUsd === 'number') total.costNanoUsd += cost.nanoUsd;
    } else if (e.kind === 'tool') {
      total.toolCalls++;
    } else if (e.kind === 'child') {
      const usage = out?.['usage'] as Partial<JobUsage> | undefined;
      if (usage) {
        total.tokens += num(usage.tokens);
        total.costNanoUsd += num(usage.costNanoUsd);
        total.toolCalls += num(usage.toolCalls);
        total.modelCalls += num(usage.modelCalls);
      }
    }
  }
  return total;
}

/**
 * What is left of `budgets` after `used`: token, cost and tool-call limits shrink, per-run
 * limits (turns, runtime) carry over. `exhausted` names a limit with nothing left.
 */
export function remainingBudget(budgets: BudgetSpec, used: JobUsage): { budgets: BudgetSpec; exhausted: string | undefined } {
  const out: BudgetSpec = { ...budgets };
  let exhausted: string | undefined;
  if (budgets.maxTokens !== undefined) {
    const left = budgets.maxTokens - used.tokens;
    if (left < 1) exhausted ??= `maxTokens (${used.tokens} of ${budgets.maxTokens} used)`;
    out.maxTokens = Math.max(1, left);
  }
  if (budgets.maxCost !== undefined) {
    const limit = Math.round(Number(budgets.maxCost) * 1e9);
    const left = limit - used.costNanoUsd;
    if (left <= 0) exhausted ??= `maxCost (${formatUsd(used.costNanoUsd)} of ${formatUsd(limit)} USD used)`;
    out.maxCost = formatUsd(Math.max(0, left));
  }
  if (budgets.maxToolCalls !== undefined) {
    const left = budgets.maxToolCalls - used.toolCalls;
    if (left < 0) exhausted ??= `maxToolCalls (${used.toolCalls} of ${budgets.maxToolCalls} used)`;
    out.maxToolCalls = Math.max(0, left);
  }
  return { budgets: out, exhausted };
}

/** The smaller of two budgets, limit by limit. */
export function tighterBudget(a: BudgetSpec, b: BudgetSpec | undefined): BudgetSpec {
  if (!b) return a;
  const out: BudgetSpec = { ...a };
  const min = (x: number | undefined, y: number | undefined) => (x === undefined ? y : y === undefined ? x : Math.min(x, y));
  out.maxTokens = min(a.maxTokens, b.maxTokens);
  out.maxToolCalls = min(a.maxToolCalls, b.maxToolCalls);
  out.maxTurns = min(a.maxTurns, b.maxTurns);
  out.maxRuntimeSeconds = min(a.maxRuntimeSeconds, b.maxRuntimeSeconds);
  const cost = min(a.maxCost === undefined ? undefined : Number(a.maxCost), b.maxCost === undefined ? undefined : Number(b.maxCost));
  out.maxCost = cost === undefined ? undefined : formatUsd(Math.round(cost * 1e9));
  for (const key of Object.keys(out) as Array<keyof BudgetSpec>) if (out[key] === undefined) delete out[key];
  return out;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Nano-dollars as a decimal string (`"0.000150"` style, trailing zeros trimmed). */
function formatUsd(nanoUsd: number): string {
  const n = Math.max(0, Math.round(nanoUsd));
  const whole = Math.floor(n / 1e9);
  const frac = String(n % 1e9).padStart(9, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}
