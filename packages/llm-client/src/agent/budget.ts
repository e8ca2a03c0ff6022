import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { AgentBudget } from './types.js';

const COUNT_FIELDS = ['maxTokens', 'maxTurns', 'maxToolCalls', 'maxRuntimeMs'] as const;

/** Checks a budget's fields; returns a frozen copy without undefined fields. */
export function validateBudget(budget: unknown, argument: string): Readonly<AgentBudget> {
  if (budget === undefined) return Object.freeze({});
  if (typeof budget !== 'object' || budget === null || Array.isArray(budget)) throw new InvalidArgumentError(argument, 'must be an object');
  const b = budget as Record<string, unknown>;
  const out: AgentBudget = {};
  for (const field of COUNT_FIELDS) {
    const v = b[field];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`${argument}.${field}`, `must be a finite number >= 0, got ${String(v)}`);
    out[field] = v;
  }
  if (b.maxCostUsd !== undefined) {
    usdToNano(b.maxCostUsd, `${argument}.maxCostUsd`);
    out.maxCostUsd = b.maxCostUsd as number | string;
  }
  for (const key of Object.keys(b)) {
    if (!(COUNT_FIELDS as readonly string[]).includes(key) && key !== 'maxCostUsd') throw new InvalidArgumentError(`${argument}.${key}`, 'unknown budget field');
  }
  return Object.freeze(out);
}

/** The run's budget: `override`'s fields win over `base`'s. */
export function mergeBudgets(base: Readonly<AgentBudget>, override: Readonly<AgentBudget>): Readonly<AgentBudget> {
  return Object.freeze({ ...base, ...override });
}

const memo = new Map<string | number, number>();

/** "0.25" or 0.25 USD -> 250,000,000 nano-USD, exactly for decimal strings (up to 9 decimals). */
export function usdToNano(value: unknown, argument = 'maxCostUsd'): number {
  if (typeof value !== 'string' && typeof value !== 'number') throw new InvalidArgumentError(argument, 'must be a number or a decimal string');
  const cached = memo.get(value);
  if (cached !== undefined) return cached;
  let nano: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError(argument, `must be a finite amount >= 0, got ${value}`);
    nano = Math.round(value * 1e9);
  } else {
    const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value.trim());
    if (!m) throw new InvalidArgumentError(argument, `must be a decimal amount with at most 9 decimals, got '${value}'`);
    nano = Number(m[1]) * 1e9 + Number((m[2] ?? '').padEnd(9, '0'));
  }
  if (memo.size < 1024) memo.set(value, nano);
  return nano;
}
