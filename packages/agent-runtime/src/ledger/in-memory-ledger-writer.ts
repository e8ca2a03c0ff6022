import type { z } from 'zod';
import { InvalidArgumentError } from '@baton/llm-client';
import { ReservationClosedError, ReservationNotFoundError } from '../errors/ledger-errors.js';
import {
  LedgerEventSchema,
  LedgerReservationSchema,
  LedgerWriter,
  parseLedgerEvent,
  parseLedgerReservation,
  USAGE_EVENT_KINDS,
  type LedgerEvent,
  type LedgerReservation,
  type LedgerTotals,
  type ReservationLimits,
  type ReserveResult,
} from '../ports/ledger-writer.js';

interface EventRow {
  id: string;
  scopeId: string;
  jobId: string | undefined;
  data: unknown;
}

interface ReservationRow {
  scopeId: string;
  day: string;
  data: unknown;
}

const SEP = '\u0000';

/**
 * `LedgerWriter` in process memory. Daily usage is kept as running integer sums per scope and
 * day; open reservations are indexed per scope and day. `reserve` reads and writes without an
 * `await` in between, so it is atomic on the event loop. Rows are validated on load.
 */
export class InMemoryLedgerWriter extends LedgerWriter {
  private readonly events: EventRow[] = [];
  private readonly eventIds = new Set<string>();
  private readonly byJob = new Map<string, EventRow[]>();
  private readonly usage = new Map<string, { tokens: number; cost: number }>();
  private readonly reservations = new Map<string, ReservationRow>();
  private readonly openByDay = new Map<string, OpenReservations>();

  async append(events: readonly LedgerEvent[]): Promise<void> {
    const parsed = events.map((e, i) => validate(LedgerEventSchema, e, `events.${i}`) as LedgerEvent);
    for (const e of parsed) {
      if (e.kind !== 'model_usage' && e.kind !== 'tool_usage' && e.kind !== 'adjustment') {
        throw new InvalidArgumentError(`events.kind`, `'${e.kind}' events are written by reserve/settle/release, not append`);
      }
    }
    for (const e of parsed) this.insertEvent(e);
  }

  async reserve(request: { reservation: LedgerReservation; limits: ReservationLimits; now: number }): Promise<ReserveResult> {
    const r = validate(LedgerReservationSchema, request.reservation, 'reservation') as LedgerReservation;
    if (r.status !== 'open') throw new InvalidArgumentError('reservation.status', "a new reservation is 'open'");
    if (this.reservations.has(r.id) || this.eventIds.has(r.id)) throw new InvalidArgumentError('reservation.id', `'${r.id}' already exists`);
    const totals = this.totals(r.scopeId, r.day, request.now);
    const { maxTokens, maxCostNanoUsd } = request.limits;
    const fitsTokens = maxTokens === undefined || totals.usedTokens + totals.reservedTokens + r.tokens <= maxTokens;
    const fitsCost = maxCostNanoUsd === undefined || totals.usedCostNanoUsd + totals.reservedCostNanoUsd + r.costNanoUsd <= maxCostNanoUsd;
    if (!fitsTokens || !fitsCost) return { ok: false, totals };
    this.reservations.set(r.id, { scopeId: r.scopeId, day: r.day, data: structuredClone(r) });
    const key = r.scopeId + SEP + r.day;
    let open = this.openByDay.get(key);
    if (!open) this.openByDay.set(key, (open = new OpenReservations()));
    open.add(r.id, r.tokens, r.costNanoUsd, r.expiresAt);
    this.insertEvent({
      schemaVersion: 1,
      id: r.id,
      scopeId: r.scopeId,
      ...(r.jobId !== undefined ? { jobId: r.jobId } : {}),
      kind: 'reservation',
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      totalTokens: r.tokens,
      costNanoUsd: r.costNanoUsd,
      reservationId: r.id,
      at: r.createdAt,
      day: r.day,
    });
    return { ok: true, reservation: structuredClone(r), totals };
  }

  async settle(request: { scopeId: string; reservationId: string; event: LedgerEvent }): Promise<LedgerReservation> {
    return this.closeReservation(request, 'settlement', 'settled').reservation;
  }

  async release(request: { scopeId: string; reservationId: string; event: LedgerEvent }): Promise<{ released: boolean; reservation: LedgerReservation }> {
    return this.closeReservation(request, 'release', 'released');
  }

  async getReservation(query: { scopeId: string; reservationId: string }): Promise<LedgerReservation | undefined> {
    const row = this.reservations.get(query.reservationId);
    if (!row || row.scopeId !== query.scopeId) return undefined;
    return structuredClone(parseLedgerReservation(row.data, query.reservationId));
  }

  async sumUsage(query: { scopeId: string; day: string; now: number }): Promise<LedgerTotals> {
    return this.totals(query.scopeId, query.day, query.now);
  }

  async listByJob(query: { scopeId: string; jobId: string }): Promise<LedgerEvent[]> {
    const rows = this.byJob.get(query.scopeId + SEP + query.jobId) ?? [];
    return rows.map((row) => structuredClone(parseLedgerEvent(row.data, row.id)));
  }

  /** Test hook: replaces a stored event or reservation with `raw` as is (no validation). */
  writeRawForTesting(target: { kind: 'event' | 'reservation'; id: string }, raw: unknown): void {
    if (target.kind === 'reservation') {
      const row = this.reservations.get(target.id);
      if (!row) throw new InvalidArgumentError('id', `no stored reservation '${target.id}'`);
      row.data = raw;
      return;
    }
    const row = this.events.find((e) => e.id === target.id);
    if (!row) throw new InvalidArgumentError('id', `no stored event '${target.id}'`);
    row.data = raw;
  }

  private closeReservation(
    request: { scopeId: string; reservationId: string; event: LedgerEvent },
    kind: 'settlement' | 'release',
    status: 'settled' | 'released',
  ): { released: boolean; reservation: LedgerReservation } {
    const event = validate(LedgerEventSchema, request.event, 'event') as LedgerEvent;
    if (event.kind !== kind || event.reservationId !== request.reservationId || event.scopeId !== request.scopeId) {
      throw new InvalidArgumentError('event', `must be a '${kind}' event of reservation '${request.reservationId}' in scope '${request.scopeId}'`);
    }
    const row = this.reservations.get(request.reservationId);
    if (!row || row.scopeId !== request.scopeId) throw new ReservationNotFoundError(request.reservationId, request.scopeId);
    const current = parseLedgerReservation(row.data, request.reservationId);
    if (current.status !== 'open') {
      if (kind === 'release') return { released: false, reservation: structuredClone(current) };
      throw new ReservationClosedError(current.id, current.status);
    }
    if (this.eventIds.has(event.id)) throw new InvalidArgumentError('event.id', `'${event.id}' already exists`);
    const closed: LedgerReservation = { ...current, status, closedAt: event.at };
    row.data = structuredClone(closed);
    this.openByDay.get(row.scopeId + SEP + row.day)?.delete(current.id);
    this.insertEvent(event);
    return { released: kind === 'release', reservation: structuredClone(closed) };
  }

  private insertEvent(e: LedgerEvent): void {
    if (this.eventIds.has(e.id)) return;
    const row: EventRow = { id: e.id, scopeId: e.scopeId, jobId: e.jobId, data: structuredClone(e) };
    this.events.push(row);
    this.eventIds.add(e.id);
    if (e.jobId !== undefined) {
      const key = e.scopeId + SEP + e.jobId;
      const list = this.byJob.get(key);
      if (list) list.push(row);
      else this.byJob.set(key, [row]);
    }
    if (USAGE_EVENT_KINDS.has(e.kind)) {
      const key = e.scopeId + SEP + e.day;
      const sum = this.usage.get(key) ?? { tokens: 0, cost: 0 };
      sum.tokens += e.totalTokens;
      sum.cost += e.costNanoUsd;
      this.usage.set(key, sum);
    }
  }

  private totals(scopeId: string, day: string, now: number): LedgerTotals {
    const key = scopeId + SEP + day;
    const used = this.usage.get(key) ?? { tokens: 0, cost: 0 };
    const open = this.openByDay.get(key);
    open?.dropLapsed(now); // a lapsed reservation no longer holds budget, though it can still be settled
    return { scopeId, day, usedTokens: used.tokens, usedCostNanoUsd: used.cost, reservedTokens: open?.tokens ?? 0, reservedCostNanoUsd: open?.cost ?? 0 };
  }
}

/**
 * The open reservations of one scope and day with their running sums; a min-heap on
 * `expiresAt` drops lapsed ones in O(log n) as time passes.
 */
class OpenReservations {
  tokens = 0;
  cost = 0;
  private readonly live = new Map<string, { tokens: number; cost: number }>();
  private readonly heap: Array<{ id: string; expiresAt: number }> = [];

  add(id: string, tokens: number, cost: number, expiresAt: number): void {
    this.live.set(id, { tokens, cost });
    this.tokens += tokens;
    this.cost += cost;
    const heap = this.heap;
    heap.push({ id, expiresAt });
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.expiresAt <= heap[i]!.expiresAt) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  delete(id: string): void {
    const entry = this.live.get(id);
    if (!entry) return;
    this.live.delete(id);
    this.tokens -= entry.tokens;
    this.cost -= entry.cost;
  }

  dropLapsed(now: number): void {
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.expiresAt <= now) {
      this.delete(heap[0]!.id);
      const last = heap.pop()!;
      if (heap.length === 0) break;
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < heap.length && heap[l]!.expiresAt < heap[min]!.expiresAt) min = l;
        if (r < heap.length && heap[r]!.expiresAt < heap[min]!.expiresAt) min = r;
        if (min === i) break;
        [heap[min], heap[i]] = [heap[i]!, heap[min]!];
        i = min;
      }
    }
  }
}

function validate(schema: z.ZodType, value: unknown, name: string): unknown {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`${name}.${issue?.path.map(String).join('.') ?? ''}`, issue?.message ?? 'invalid');
  }
  return parsed.data;
}
