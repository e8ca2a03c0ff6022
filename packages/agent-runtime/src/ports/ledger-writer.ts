import { z } from 'zod';
import { CorruptLedgerRecordError } from '../errors/ledger-errors.js';

/** Version of the stored `LedgerEvent` and `LedgerReservation` shapes. */
export const LEDGER_SCHEMA_VERSION = 1;

export const LEDGER_EVENT_KINDS = ['model_usage', 'tool_usage', 'reservation', 'settlement', 'release', 'adjustment'] as const;
export type LedgerEventKind = (typeof LEDGER_EVENT_KINDS)[number];
/** Kinds that count as spent money and tokens in the daily sums. */
export const USAGE_EVENT_KINDS: ReadonlySet<LedgerEventKind> = new Set(['model_usage', 'tool_usage', 'settlement', 'adjustment']);

const epochMs = z.number().int().nonnegative();
/** UTC calendar day, `YYYY-MM-DD`. */
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const safeInt = z.number().int().refine(Number.isSafeInteger, 'must be a safe integer');

/**
 * One entry of the append-only ledger. Money is integer nano-USD (1e-9 USD); `totalTokens` is
 * input + output for usage, the reserved amount for a reservation. Only `adjustment` may be
 * negative. `day` is the UTC day the amount counts against (a settlement counts on its
 * reservation's day).
 */
export const LedgerEventSchema = z
  .object({
    schemaVersion: z.literal(LEDGER_SCHEMA_VERSION),
    id: z.string().min(1),
    scopeId: z.string().min(1),
    jobId: z.string().min(1).optional(),
    kind: z.enum(LEDGER_EVENT_KINDS),
    provider: z.string().optional(),
    model: z.string().optional(),
    inputTokens: safeInt,
    outputTokens: safeInt,
    cachedInputTokens: safeInt,
    totalTokens: safeInt,
    costNanoUsd: safeInt,
    reservationId: z.string().min(1).optional(),
    at: epochMs,
    day,
  })
  .superRefine((e, ctx) => {
    if (e.kind === 'adjustment') return;
    for (const key of ['inputTokens', 'outputTokens', 'cachedInputTokens', 'totalTokens', 'costNanoUsd'] as const) {
      if (e[key] < 0) ctx.addIssue({ code: 'custom', path: [key], message: `must not be negative for a '${e.kind}' event` });
    }
  });
export type LedgerEvent = z.infer<typeof LedgerEventSchema>;

export const RESERVATION_STATUSES = ['open', 'settled', 'released'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/**
 * Budget held for a call in flight. It counts against its scope's day while `open` and
 * `expiresAt > now`; an expired reservation no longer blocks the budget (a crashed job's hold
 * lapses) but can still be settled with the real usage.
 */
export const LedgerReservationSchema = z.object({
  schemaVersion: z.literal(LEDGER_SCHEMA_VERSION),
  id: z.string().min(1),
  scopeId: z.string().min(1),
  jobId: z.string().min(1).optional(),
  day,
  tokens: safeInt.nonnegative(),
  costNanoUsd: safeInt.nonnegative(),
  createdAt: epochMs,
  expiresAt: epochMs,
  status: z.enum(RESERVATION_STATUSES),
  closedAt: epochMs.optional(),
});
export type LedgerReservation = z.infer<typeof LedgerReservationSchema>;

/** A scope's figures for one day. `reserved*` counts open, unexpired reservations only. */
export interface LedgerTotals {
  scopeId: string;
  day: string;
  usedTokens: number;
  usedCostNanoUsd: number;
  reservedTokens: number;
  reservedCostNanoUsd: number;
}

/** Limits checked by `reserve`: used + reserved + requested must stay at or below each. */
export interface ReservationLimits {
  maxTokens?: number | undefined;
  maxCostNanoUsd?: number | undefined;
}

export type ReserveResult =
  /** `totals` are the day's figures before this reservation. */
  | { ok: true; reservation: LedgerReservation; totals: LedgerTotals }
  /** Nothing was written. */
  | { ok: false; totals: LedgerTotals };

/** Parses a stored ledger event, or throws `CorruptLedgerRecordError` naming it. */
export function parseLedgerEvent(raw: unknown, id: string): LedgerEvent {
  return parseVersioned(LedgerEventSchema, raw, id) as LedgerEvent;
}

/** Parses a stored reservation, or throws `CorruptLedgerRecordError` naming it. */
export function parseLedgerReservation(raw: unknown, id: string): LedgerReservation {
  return parseVersioned(LedgerReservationSchema, raw, id) as LedgerReservation;
}

function parseVersioned(schema: z.ZodType, raw: unknown, id: string): unknown {
  if (typeof raw !== 'object' || raw === null) throw new CorruptLedgerRecordError(id, 'not an object');
  const version = (raw as { schemaVersion?: unknown }).schemaVersion;
  if (version !== LEDGER_SCHEMA_VERSION) {
    throw new CorruptLedgerRecordError(id, `unknown schema version ${JSON.stringify(version)} (this runtime reads ${LEDGER_SCHEMA_VERSION})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptLedgerRecordError(id, `${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}`, parsed.error);
  }
  return parsed.data;
}

/**
 * Append-only storage of usage and budget reservations. Every query is scoped by `scopeId`.
 * `reserve` must check and insert in one atomic step (a row lock or serializable transaction per
 * scope and day in SQL): concurrent reservations of one scope never exceed its limits together.
 */
export abstract class LedgerWriter {
  /**
   * Appends usage events (`model_usage`, `tool_usage`, `adjustment`; the other kinds are written
   * by `reserve`/`settle`/`release`). An event whose id is already stored is skipped, so a retried
   * append does not count twice.
   */
  abstract append(events: readonly LedgerEvent[]): Promise<void>;

  /**
   * Atomically: computes the day's totals at `now`, and stores `reservation` (status `open`) plus
   * a `reservation` event with the same id only if used + reserved + requested fits `limits`.
   */
  abstract reserve(request: { reservation: LedgerReservation; limits: ReservationLimits; now: number }): Promise<ReserveResult>;

  /**
   * Closes an open (even expired) reservation with the real usage: stores `event` (kind
   * `settlement`, its `reservationId` set) and marks the reservation settled. Throws
   * `ReservationNotFoundError` (unknown in the scope) or `ReservationClosedError` (settled or
   * released already); a lost race leaves exactly one settlement.
   */
  abstract settle(request: { scopeId: string; reservationId: string; event: LedgerEvent }): Promise<LedgerReservation>;

  /**
   * Closes an open reservation without usage, storing `event` (kind `release`). Releasing a
   * closed reservation changes nothing and returns `released: false`; an unknown one throws
   * `ReservationNotFoundError`.
   */
  abstract release(request: { scopeId: string; reservationId: string; event: LedgerEvent }): Promise<{ released: boolean; reservation: LedgerReservation }>;

  abstract getReservation(query: { scopeId: string; reservationId: string }): Promise<LedgerReservation | undefined>;

  /** The scope's usage on `day` and its open reservations unexpired at `now`. */
  abstract sumUsage(query: { scopeId: string; day: string; now: number }): Promise<LedgerTotals>;

  /** A job's events in the order they were written. */
  abstract listByJob(query: { scopeId: string; jobId: string }): Promise<LedgerEvent[]>;

  /** Releases connections; the default does nothing. */
  async close(): Promise<void> {}
}
