import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type Cost, type Usage } from '@baton/llm-client';
import type { ExecutionContext } from '../context/execution-context.js';
import { ReservationNotFoundError, ScopeBudgetExceededError } from '../errors/ledger-errors.js';
import { LEDGER_SCHEMA_VERSION, type LedgerEvent, type LedgerTotals, type LedgerWriter } from '../ports/ledger-writer.js';
import { normalizeBudget, type Budget, type BudgetDecision, type BudgetRemaining, type NormalizedBudget } from './budget.js';
import { nanoToUsd } from './money.js';

/** Names a held reservation; an `allow`/`warn` `BudgetDecision` is one. */
export interface ReservationHandle {
  scopeId: string;
  reservationId: string;
}

export type BudgetEvent =
  | { type: 'budget.warning'; scopeId: string; jobId: string | undefined; reason: string; remaining: BudgetRemaining; at: number }
  | { type: 'budget.exceeded'; scopeId: string; jobId: string | undefined; reason: string; budget: 'daily_tokens' | 'daily_cost'; remaining: BudgetRemaining; at: number };

export interface LedgerOptions {
  writer: LedgerWriter;
  budgets?: Budget[];
  /** Looked up for scopes without a budget set here (e.g. from a tenants table). */
  resolveBudget?: (scopeId: string) => Budget | undefined | Promise<Budget | undefined>;
  /** How long a reservation holds budget before it lapses (default 10 min). */
  reservationTtlMs?: number;
  now?: () => number;
  generateId?: () => string;
  /** Warnings and denials, for `budget.*` events. A throwing listener is ignored. */
  onEvent?: (event: BudgetEvent) => void;
}

/** A scope's day in figures, money also as decimal strings. */
export interface LedgerUsage extends LedgerTotals {
  usedCostUsd: string;
  reservedCostUsd: string;
  budget: { dailyTokens?: number; dailyCostUsd?: string; warnAt: number } | undefined;
}

/**
 * Usage and budgets. `checkBudget` reserves the expected tokens/cost atomically in the writer,
 * so concurrent jobs of one scope cannot overspend its daily budget together; the call then
 * `recordModelUsage` (settles with the real usage, the unused part going back) or `release`s
 * on failure. A reservation that is neither lapses after `reservationTtlMs`.
 *
 * Scope budgets are enforced here; a job's own `ctx.budgets` are enforced per run by the agent's
 * budget middleware. A settlement larger than its reservation is recorded as it is (the money
 * was spent) and shows up in the next check.
 */
export class Ledger {
  readonly writer: LedgerWriter;
  private readonly budgets = new Map<string, NormalizedBudget>();
  private readonly resolveBudget: LedgerOptions['resolveBudget'];
  private readonly reservationTtlMs: number;
  private readonly now: () => number;
  private readonly generateId: () => string;
  private readonly onEvent: ((event: BudgetEvent) => void) | undefined;

  constructor(options: LedgerOptions) {
    if (!options?.writer) throw new InvalidArgumentError('writer', 'a LedgerWriter is required');
    this.writer = options.writer;
    this.resolveBudget = options.resolveBudget;
    this.reservationTtlMs = options.reservationTtlMs ?? 10 * 60_000;
    if (!Number.isSafeInteger(this.reservationTtlMs) || this.reservationTtlMs <= 0) throw new InvalidArgumentError('reservationTtlMs', 'must be a positive integer');
    this.now = options.now ?? Date.now;
    this.generateId = options.generateId ?? (() => randomUUID());
    this.onEvent = options.onEvent;
    for (const budget of options.budgets ?? []) this.setBudget(budget);
  }

  /** Sets (or replaces) a scope's budget. */
  setBudget(budget: Budget): this {
    const normalized = normalizeBudget(budget);
    this.budgets.set(normalized.scopeId, normalized);
    return this;
  }

  removeBudget(scopeId: string): boolean {
    return this.budgets.delete(scopeId);
  }

  /**
   * Reserves `pendingTokens` (and `pendingCostNanoUsd`, default 0) against the scope's daily
   * budget in one atomic step. `allow`/`warn` carry the reservation id; `deny` reserved nothing.
   */
  async checkBudget(ctx: ExecutionContext, pendingTokens: number, pendingCostNanoUsd = 0): Promise<BudgetDecision> {
    if (!ctx?.scopeId) throw new InvalidArgumentError('ctx.scopeId', 'is required');
    if (!Number.isSafeInteger(pendingTokens) || pendingTokens < 0) throw new InvalidArgumentError('pendingTokens', 'must be a non-negative integer');
    if (!Number.isSafeInteger(pendingCostNanoUsd) || pendingCostNanoUsd < 0) throw new InvalidArgumentError('pendingCostNanoUsd', 'must be a non-negative integer (nano-USD)');
    const scopeId = ctx.scopeId;
    const budget = await this.budgetOf(scopeId);
    const now = this.now();
    const day = utcDay(now);
    const id = this.newId();
    const result = await this.writer.reserve({
      reservation: {
        schemaVersion: LEDGER_SCHEMA_VERSION,
        id,
        scopeId,
        ...(ctx.jobId !== undefined ? { jobId: ctx.jobId } : {}),
        day,
        tokens: pendingTokens,
        costNanoUsd: pendingCostNanoUsd,
        createdAt: now,
        expiresAt: now + this.reservationTtlMs,
        status: 'open',
      },
      limits: { maxTokens: budget?.dailyTokens, maxCostNanoUsd: budget?.dailyCostNanoUsd },
      now,
    });
    const t = result.totals;
    if (!result.ok) {
      const tokensOver = budget?.dailyTokens !== undefined && t.usedTokens + t.reservedTokens + pendingTokens > budget.dailyTokens;
      const which = tokensOver ? 'daily_tokens' : 'daily_cost';
      const reason = tokensOver
        ? `daily token budget of ${budget!.dailyTokens}: ${t.usedTokens} used + ${t.reservedTokens} reserved + ${pendingTokens} requested`
        : `daily cost budget of $${nanoToUsd(budget!.dailyCostNanoUsd!)}: $${nanoToUsd(t.usedCostNanoUsd)} used + $${nanoToUsd(t.reservedCostNanoUsd)} reserved + $${nanoToUsd(pendingCostNanoUsd)} requested`;
      const remaining = remainingOf(budget, t.usedTokens + t.reservedTokens, t.usedCostNanoUsd + t.reservedCostNanoUsd);
      this.emit({ type: 'budget.exceeded', scopeId, jobId: ctx.jobId, reason, budget: which, remaining, at: now });
      return { decision: 'deny', scopeId, reason, budget: which, remaining };
    }
    const tokensAfter = t.usedTokens + t.reservedTokens + pendingTokens;
    const costAfter = t.usedCostNanoUsd + t.reservedCostNanoUsd + pendingCostNanoUsd;
    const remaining = remainingOf(budget, tokensAfter, costAfter);
    const warning = budget ? warningOf(budget, tokensAfter, costAfter) : undefined;
    if (warning) {
      this.emit({ type: 'budget.warning', scopeId, jobId: ctx.jobId, reason: warning, remaining, at: now });
      return { decision: 'warn', scopeId, reservationId: id, remaining, reason: warning };
    }
    return { decision: 'allow', scopeId, reservationId: id, remaining };
  }

  /** Like `checkBudget`, but throws `ScopeBudgetExceededError` on `deny`. */
  async reserveOrThrow(ctx: ExecutionContext, pendingTokens: number, pendingCostNanoUsd = 0): Promise<Exclude<BudgetDecision, { decision: 'deny' }>> {
    const decision = await this.checkBudget(ctx, pendingTokens, pendingCostNanoUsd);
    if (decision.decision === 'deny') throw new ScopeBudgetExceededError(decision.scopeId, decision.budget, decision.reason);
    return decision;
  }

  /**
   * Settles a reservation with the real usage and cost (a `Cost` or integer nano-USD; absent = 0).
   * The reserved amount stops counting and the real one counts instead. Settling twice throws
   * `ReservationClosedError`.
   */
  async recordModelUsage(reservation: ReservationHandle, usage: Usage, cost?: Cost | number, details: { provider?: string; model?: string } = {}): Promise<LedgerEvent> {
    const { scopeId, reservationId } = handleOf(reservation);
    const held = await this.writer.getReservation({ scopeId, reservationId });
    if (!held) throw new ReservationNotFoundError(reservationId, scopeId);
    const now = this.now();
    const event: LedgerEvent = {
      ...usageFields(usage),
      schemaVersion: LEDGER_SCHEMA_VERSION,
      id: this.newId(),
      scopeId,
      ...(held.jobId !== undefined ? { jobId: held.jobId } : {}),
      kind: 'settlement',
      ...(details.provider !== undefined ? { provider: details.provider } : {}),
      ...(details.model !== undefined ? { model: details.model } : {}),
      costNanoUsd: nanoOf(cost),
      reservationId,
      at: now,
      day: held.day,
    };
    await this.writer.settle({ scopeId, reservationId, event });
    return event;
  }

  /** Gives a reservation back (the call failed or was not made). Returns false if it was already closed. */
  async release(reservation: ReservationHandle): Promise<boolean> {
    const { scopeId, reservationId } = handleOf(reservation);
    const held = await this.writer.getReservation({ scopeId, reservationId });
    if (!held) throw new ReservationNotFoundError(reservationId, scopeId);
    const result = await this.writer.release({
      scopeId,
      reservationId,
      event: {
        schemaVersion: LEDGER_SCHEMA_VERSION,
        id: this.newId(),
        scopeId,
        ...(held.jobId !== undefined ? { jobId: held.jobId } : {}),
        kind: 'release',
        inputTokens: 0,
        outputTokens: 0,
        cachedInputTokens: 0,
        totalTokens: 0,
        costNanoUsd: 0,
        reservationId,
        at: this.now(),
        day: held.day,
      },
    });
    return result.released;
  }

  /** Records usage that had no reservation (a tool's cost, a correction). Adjustments may be negative. */
  async recordUsage(options: {
    ctx: ExecutionContext;
    kind: 'model_usage' | 'tool_usage' | 'adjustment';
    usage?: Usage;
    cost?: Cost | number;
    provider?: string;
    model?: string;
  }): Promise<LedgerEvent> {
    const { ctx, kind } = options;
    if (!ctx?.scopeId) throw new InvalidArgumentError('ctx.scopeId', 'is required');
    const now = this.now();
    const event: LedgerEvent = {
      ...usageFields(options.usage ?? { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, totalTokens: 0 }),
      schemaVersion: LEDGER_SCHEMA_VERSION,
      id: this.newId(),
      scopeId: ctx.scopeId,
      ...(ctx.jobId !== undefined ? { jobId: ctx.jobId } : {}),
      kind,
      ...(options.provider !== undefined ? { provider: options.provider } : {}),
      ...(options.model !== undefined ? { model: options.model } : {}),
      costNanoUsd: nanoOf(options.cost, kind === 'adjustment'),
      at: now,
      day: utcDay(now),
    };
    await this.writer.append([event]);
    return event;
  }

  /** The scope's figures for a UTC day (default today). */
  async usage(options: { scopeId: string; day?: string }): Promise<LedgerUsage> {
    if (!options?.scopeId) throw new InvalidArgumentError('scopeId', 'is required');
    const now = this.now();
    const day = options.day ?? utcDay(now);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new InvalidArgumentError('day', 'must be YYYY-MM-DD');
    const totals = await this.writer.sumUsage({ scopeId: options.scopeId, day, now });
    const budget = await this.budgetOf(options.scopeId);
    return {
      ...totals,
      usedCostUsd: nanoToUsd(totals.usedCostNanoUsd),
      reservedCostUsd: nanoToUsd(totals.reservedCostNanoUsd),
      budget: budget && {
        ...(budget.dailyTokens !== undefined ? { dailyTokens: budget.dailyTokens } : {}),
        ...(budget.dailyCostNanoUsd !== undefined ? { dailyCostUsd: nanoToUsd(budget.dailyCostNanoUsd) } : {}),
        warnAt: budget.warnAt,
      },
    };
  }

  async listByJob(options: { scopeId: string; jobId: string }): Promise<LedgerEvent[]> {
    return this.writer.listByJob(options);
  }

  private async budgetOf(scopeId: string): Promise<NormalizedBudget | undefined> {
    const known = this.budgets.get(scopeId);
    if (known || !this.resolveBudget) return known;
    const found = await this.resolveBudget(scopeId);
    return found === undefined ? undefined : normalizeBudget({ ...found, scopeId });
  }

  private newId(): string {
    const id = this.generateId();
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError('generateId', 'returned an empty id');
    return id;
  }

  private emit(event: BudgetEvent): void {
    try {
      this.onEvent?.(event);
    } catch {
      // listeners never change a decision
    }
  }
}

/** The UTC calendar day of an epoch-ms instant, `YYYY-MM-DD`. */
export function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

function handleOf(reservation: ReservationHandle): ReservationHandle {
  if (!reservation?.scopeId || !reservation.reservationId) throw new InvalidArgumentError('reservation', 'needs scopeId and reservationId (pass the BudgetDecision)');
  return reservation;
}

function usageFields(usage: Usage): Pick<LedgerEvent, 'inputTokens' | 'outputTokens' | 'cachedInputTokens' | 'totalTokens'> {
  const input = usage.inputTokens ?? 0;
  const output = usage.outputTokens ?? 0;
  return { inputTokens: input, outputTokens: output, cachedInputTokens: usage.cachedInputTokens ?? 0, totalTokens: input + output };
}

function nanoOf(cost: Cost | number | undefined, allowNegative = false): number {
  const nano = cost === undefined ? 0 : typeof cost === 'number' ? cost : cost.nanoUsd;
  if (!Number.isSafeInteger(nano) || (!allowNegative && nano < 0)) throw new InvalidArgumentError('cost', 'must be an integer amount of nano-USD');
  return nano;
}

function remainingOf(budget: NormalizedBudget | undefined, tokens: number, costNanoUsd: number): BudgetRemaining {
  const out: BudgetRemaining = {};
  if (budget?.dailyTokens !== undefined) out.tokens = Math.max(0, budget.dailyTokens - tokens);
  if (budget?.dailyCostNanoUsd !== undefined) {
    out.costNanoUsd = Math.max(0, budget.dailyCostNanoUsd - costNanoUsd);
    out.costUsd = nanoToUsd(out.costNanoUsd);
  }
  return out;
}

function warningOf(budget: NormalizedBudget, tokens: number, costNanoUsd: number): string | undefined {
  const parts: string[] = [];
  if (budget.dailyTokens !== undefined && budget.dailyTokens > 0 && tokens >= budget.warnAt * budget.dailyTokens) {
    parts.push(`${percent(tokens, budget.dailyTokens)}% of the daily token budget`);
  }
  if (budget.dailyCostNanoUsd !== undefined && budget.dailyCostNanoUsd > 0 && costNanoUsd >= budget.warnAt * budget.dailyCostNanoUsd) {
    parts.push(`${percent(costNanoUsd, budget.dailyCostNanoUsd)}% of the daily cost budget`);
  }
  return parts.length ? `scope '${budget.scopeId}' is at ${parts.join(' and ')}` : undefined;
}

function percent(part: number, whole: number): number {
  return Math.floor((part * 100) / whole);
}
