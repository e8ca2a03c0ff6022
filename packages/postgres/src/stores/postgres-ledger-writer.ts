import { InvalidArgumentError } from '@baton/llm-client';
import {
  LedgerEventSchema,
  LedgerReservationSchema,
  LedgerWriter,
  parseLedgerEvent,
  parseLedgerReservation,
  ReservationClosedError,
  ReservationNotFoundError,
  USAGE_EVENT_KINDS,
  type LedgerEvent,
  type LedgerReservation,
  type LedgerTotals,
  type ReservationLimits,
  type ReserveResult,
} from '@baton/agent-runtime';
import type { PostgresConnectionOptions } from '../database.js';
import type { MigrationResult } from '../migrations/migrate.js';
import { sqlState } from '../sql/driver-errors.js';
import type { SqlExecutor } from '../sql/sql-client.js';
import { msToTs, type Tables } from '../sql/tables.js';
import { jsonParam, mapValueError, num, parseJsonText } from '../sql/values.js';
import { validateInput } from '../sql/validate-input.js';
import { StoreContext } from '../store-context.js';

const USAGE_KINDS = [...USAGE_EVENT_KINDS];

/** Inserts events given as one JSON array, deriving the columns from each record; a stored id is skipped. */
function insertEventsSql(t: Tables): string {
  return `INSERT INTO ${t.ledgerEvents} (id, scope_id, job_id, kind, day, total_tokens, cost_nano_usd, at, record)
    SELECT e->>'id', e->>'scopeId', e->>'jobId', e->>'kind', (e->>'day')::date, (e->>'totalTokens')::int8,
           (e->>'costNanoUsd')::numeric, ${msToTs(`e->>'at'`)}, e
      FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, n)
     ORDER BY n
    ON CONFLICT (id) DO NOTHING`;
}

/**
 * `LedgerWriter` on Postgres or PGlite. Money is NUMERIC (integer nano-USD, summed exactly).
 * `reserve` locks the scope's budget row for the day (`INSERT … ON CONFLICT DO UPDATE`, which
 * holds the row until commit), then sums and inserts in the same transaction: concurrent
 * reservations of one scope and day are serialized and never exceed the limits together.
 */
export class PostgresLedgerWriter extends LedgerWriter {
  private readonly ctx: StoreContext;

  constructor(options: PostgresConnectionOptions) {
    super();
    this.ctx = new StoreContext(options);
  }

  setup(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  migrate(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  override async close(): Promise<void> {
    await this.ctx.close();
  }

  async append(events: readonly LedgerEvent[]): Promise<void> {
    if (!Array.isArray(events)) throw new InvalidArgumentError('events', 'must be an array');
    const parsed = events.map((e, i) => validateInput(LedgerEventSchema, e, `events.${i}`));
    for (const e of parsed) {
      if (e.kind !== 'model_usage' && e.kind !== 'tool_usage' && e.kind !== 'adjustment') {
        throw new InvalidArgumentError('events.kind', `'${e.kind}' events are written by reserve/settle/release, not append`);
      }
    }
    if (parsed.length === 0) return;
    const sql = await this.ctx.sql();
    try {
      await sql.query(insertEventsSql(this.ctx.tables), [jsonParam(parsed)]);
    } catch (error) {
      throw mapValueError(error, 'events');
    }
  }

  async reserve(request: { reservation: LedgerReservation; limits: ReservationLimits; now: number }): Promise<ReserveResult> {
    const r = validateInput(LedgerReservationSchema, request.reservation, 'reservation');
    if (r.status !== 'open') throw new InvalidArgumentError('reservation.status', "a new reservation is 'open'");
    const { maxTokens, maxCostNanoUsd } = request.limits ?? {};
    if (!Number.isFinite(request.now)) throw new InvalidArgumentError('now', 'must be epoch milliseconds');
    const t = this.ctx.tables;
    const sql = await this.ctx.sql();
    try {
      return await sql.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO ${t.ledgerBudgets} (scope_id, day) VALUES ($1, $2::date) ON CONFLICT (scope_id, day) DO UPDATE SET scope_id = EXCLUDED.scope_id`,
          [r.scopeId, r.day],
        );
        const totals = await this.totals(tx, r.scopeId, r.day, request.now);
        const fitsTokens = maxTokens === undefined || totals.usedTokens + totals.reservedTokens + r.tokens <= maxTokens;
        const fitsCost = maxCostNanoUsd === undefined || totals.usedCostNanoUsd + totals.reservedCostNanoUsd + r.costNanoUsd <= maxCostNanoUsd;
        if (!fitsTokens || !fitsCost) return { ok: false, totals };
        const event: LedgerEvent = {
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
        };
        await tx.query(
          `INSERT INTO ${t.ledgerReservations} (id, scope_id, job_id, day, tokens, cost_nano_usd, status, created_at, expires_at, record)
           VALUES ($1, $2, $3, $4::date, $5, $6::numeric, 'open', ${msToTs('$7')}, ${msToTs('$8')}, $9::jsonb)`,
          [r.id, r.scopeId, r.jobId ?? null, r.day, r.tokens, String(r.costNanoUsd), r.createdAt, r.expiresAt, jsonParam(r)],
        );
        const inserted = await tx.query(insertEventsSql(t), [jsonParam([event])]);
        if (inserted.rowCount !== 1) throw new InvalidArgumentError('reservation.id', `'${r.id}' already exists`);
        return { ok: true, reservation: r, totals };
      });
    } catch (error) {
      if (sqlState(error) === '23505') throw new InvalidArgumentError('reservation.id', `'${r.id}' already exists`, error);
      throw mapValueError(error, 'reservation');
    }
  }

  async settle(request: { scopeId: string; reservationId: string; event: LedgerEvent }): Promise<LedgerReservation> {
    return (await this.closeReservation(request, 'settlement', 'settled')).reservation;
  }

  async release(request: { scopeId: string; reservationId: string; event: LedgerEvent }): Promise<{ released: boolean; reservation: LedgerReservation }> {
    return this.closeReservation(request, 'release', 'released');
  }

  async getReservation(query: { scopeId: string; reservationId: string }): Promise<LedgerReservation | undefined> {
    const sql = await this.ctx.sql();
    const { rows } = await sql.query<{ record: string }>(
      `SELECT record::text AS record FROM ${this.ctx.tables.ledgerReservations} WHERE id = $1 AND scope_id = $2`,
      [query.reservationId, query.scopeId],
    );
    return rows[0] ? parseLedgerReservation(parseJsonText(rows[0].record), query.reservationId) : undefined;
  }

  async sumUsage(query: { scopeId: string; day: string; now: number }): Promise<LedgerTotals> {
    return this.totals(await this.ctx.sql(), query.scopeId, query.day, query.now);
  }

  async listByJob(query: { scopeId: string; jobId: string }): Promise<LedgerEvent[]> {
    const sql = await this.ctx.sql();
    const { rows } = await sql.query<{ id: string; record: string }>(
      `SELECT id, record::text AS record FROM ${this.ctx.tables.ledgerEvents} WHERE scope_id = $1 AND job_id = $2 ORDER BY ord`,
      [query.scopeId, query.jobId],
    );
    return rows.map((row) => parseLedgerEvent(parseJsonText(row.record), row.id));
  }

  private async closeReservation(
    request: { scopeId: string; reservationId: string; event: LedgerEvent },
    kind: 'settlement' | 'release',
    status: 'settled' | 'released',
  ): Promise<{ released: boolean; reservation: LedgerReservation }> {
    const event = validateInput(LedgerEventSchema, request.event, 'event');
    if (event.kind !== kind || event.reservationId !== request.reservationId || event.scopeId !== request.scopeId) {
      throw new InvalidArgumentError('event', `must be a '${kind}' event of reservation '${request.reservationId}' in scope '${request.scopeId}'`);
    }
    const t = this.ctx.tables;
    const sql = await this.ctx.sql();
    try {
      return await sql.transaction(async (tx) => {
        const { rows } = await tx.query<{ record: string }>(
          `SELECT record::text AS record FROM ${t.ledgerReservations} WHERE id = $1 AND scope_id = $2 FOR UPDATE`,
          [request.reservationId, request.scopeId],
        );
        if (!rows[0]) throw new ReservationNotFoundError(request.reservationId, request.scopeId);
        const current = parseLedgerReservation(parseJsonText(rows[0].record), request.reservationId);
        if (current.status !== 'open') {
          if (kind === 'release') return { released: false, reservation: current };
          throw new ReservationClosedError(current.id, current.status);
        }
        const closed: LedgerReservation = { ...current, status, closedAt: event.at };
        await tx.query(`UPDATE ${t.ledgerReservations} SET status = $2, record = $3::jsonb WHERE id = $1`, [current.id, status, jsonParam(closed)]);
        const inserted = await tx.query(insertEventsSql(t), [jsonParam([event])]);
        if (inserted.rowCount !== 1) throw new InvalidArgumentError('event.id', `'${event.id}' already exists`);
        return { released: kind === 'release', reservation: closed };
      });
    } catch (error) {
      throw mapValueError(error, 'event');
    }
  }

  /** The day's usage and its open reservations unexpired at `now`, in one statement (one snapshot). */
  private async totals(sql: SqlExecutor, scopeId: string, day: string, now: number): Promise<LedgerTotals> {
    const t = this.ctx.tables;
    const { rows } = await sql.query<{ used_tokens: string; used_cost: string; reserved_tokens: string; reserved_cost: string }>(
      `SELECT u.tokens::text AS used_tokens, u.cost::text AS used_cost, r.tokens::text AS reserved_tokens, r.cost::text AS reserved_cost
         FROM (SELECT coalesce(sum(total_tokens), 0) AS tokens, coalesce(sum(cost_nano_usd), 0) AS cost
                 FROM ${t.ledgerEvents} WHERE scope_id = $1 AND day = $2::date AND kind = ANY($4::text[])) u,
              (SELECT coalesce(sum(tokens), 0) AS tokens, coalesce(sum(cost_nano_usd), 0) AS cost
                 FROM ${t.ledgerReservations} WHERE scope_id = $1 AND day = $2::date AND status = 'open' AND expires_at > ${msToTs('$3')}) r`,
      [scopeId, day, Math.floor(now), USAGE_KINDS],
    );
    const row = rows[0];
    return {
      scopeId,
      day,
      usedTokens: num(row?.used_tokens ?? 0),
      usedCostNanoUsd: num(row?.used_cost ?? 0),
      reservedTokens: num(row?.reserved_tokens ?? 0),
      reservedCostNanoUsd: num(row?.reserved_cost ?? 0),
    };
  }
}
