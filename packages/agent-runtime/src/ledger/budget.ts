import { InvalidArgumentError } from '@baton/llm-client';
import { parseUsdToNano } from './money.js';

/**
 * A scope's daily limits (UTC days). Money is a decimal string ("25.00") or number, turned into
 * integer nano-USD exactly. A limit left out is unlimited.
 */
export interface Budget {
  scopeId: string;
  dailyTokens?: number;
  dailyCostUsd?: string | number;
  /** Share of a limit from which decisions are `warn` instead of `allow` (default 0.8). */
  warnAt?: number;
}

export interface NormalizedBudget {
  scopeId: string;
  dailyTokens: number | undefined;
  dailyCostNanoUsd: number | undefined;
  warnAt: number;
}

/** What is left of a scope's day; a field is absent when that limit is unlimited. */
export interface BudgetRemaining {
  tokens?: number;
  costNanoUsd?: number;
  /** `costNanoUsd` as a decimal string. */
  costUsd?: string;
}

/** `allow`/`warn` hold a reservation to settle or release; `deny` holds nothing. */
export type BudgetDecision =
  | { decision: 'allow'; scopeId: string; reservationId: string; remaining: BudgetRemaining }
  | { decision: 'warn'; scopeId: string; reservationId: string; remaining: BudgetRemaining; reason: string }
  | { decision: 'deny'; scopeId: string; reason: string; budget: 'daily_tokens' | 'daily_cost'; remaining: BudgetRemaining };

export function normalizeBudget(budget: Budget): NormalizedBudget {
  if (!budget || typeof budget.scopeId !== 'string' || budget.scopeId.length === 0) throw new InvalidArgumentError('budget.scopeId', 'is required');
  if (budget.dailyTokens !== undefined && (!Number.isSafeInteger(budget.dailyTokens) || budget.dailyTokens < 0)) {
    throw new InvalidArgumentError('budget.dailyTokens', 'must be a non-negative integer');
  }
  const warnAt = budget.warnAt ?? 0.8;
  if (typeof warnAt !== 'number' || !(warnAt > 0 && warnAt <= 1)) throw new InvalidArgumentError('budget.warnAt', 'must be in (0, 1]');
  return {
    scopeId: budget.scopeId,
    dailyTokens: budget.dailyTokens,
    dailyCostNanoUsd: budget.dailyCostUsd === undefined ? undefined : parseUsdToNano(budget.dailyCostUsd, 'budget.dailyCostUsd'),
    warnAt,
  };
}
