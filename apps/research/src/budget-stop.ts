/** Why a research job stopped before its end: the typed budget error it met, and where. */
export interface BudgetStop {
  /** `scope_budget_exceeded` (the scope's ledger) or `budget_exceeded` (a job's own budgets). */
  code: string;
  /** Which limit: `daily_tokens`, `daily_cost`, `tokens`, … */
  budget: string;
  stage: string;
  message: string;
}

const BUDGET_CODES = new Set(['scope_budget_exceeded', 'budget_exceeded']);

/** The budget error in `error` or its causes, as a `BudgetStop`; undefined for any other error. */
export function budgetStopOf(error: unknown, stage: string): BudgetStop | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && BUDGET_CODES.has(code)) {
      const budget = (e as { budget?: unknown }).budget;
      return { code, budget: typeof budget === 'string' ? budget : 'unknown', stage, message: (e as { message?: unknown }).message as string };
    }
  }
  return undefined;
}
