export { Ledger, utcDay, type BudgetEvent, type LedgerOptions, type LedgerUsage, type ReservationHandle } from './ledger.js';
export { normalizeBudget, type Budget, type BudgetDecision, type BudgetRemaining, type NormalizedBudget } from './budget.js';
export { nanoToUsd, parseUsdToNano } from './money.js';
export { InMemoryLedgerWriter } from './in-memory-ledger-writer.js';
