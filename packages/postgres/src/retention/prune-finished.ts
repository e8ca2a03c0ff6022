import { InvalidArgumentError } from '@baton/llm-client';
import type { BatonDatabase } from '../database.js';
import { msToTs, type Tables } from '../sql/tables.js';
import { num } from '../sql/values.js';

/** Job statuses whose data `pruneFinished` removes. A dead-lettered job is left alone: an operator may re-queue it. */
export const PRUNABLE_STATUSES = ['completed', 'failed', 'cancelled', 'interrupted'] as const;

export interface PruneFinishedOptions {
  /** Jobs that finished (last updated) at least this long ago are pruned. */
  olderThanMs: number;
  /**
   * Keep the job record itself, with its status and result (default true): the job is compacted
   * to its result. With false, the job record goes too (also the records of jobs compacted earlier).
   */
  keepResult?: boolean | undefined;
  /** Jobs (and orphaned rows) handled per statement. Default 500. */
  batchSize?: number | undefined;
  /**
   * Also remove orphans (default true): rows of job ids that have no job record (a job deleted by
   * hand, or by another tool) and no event newer than the TTL. See `pruneFinished`.
   */
  orphans?: boolean | undefined;
  /** Epoch milliseconds; injectable for tests. */
  now?: (() => number) | undefined;
}

export interface PruneFinishedResult {
  /** Finished jobs whose data was removed. */
  readonly jobs: number;
  /** Journal entries, shared data and log records, deferred events, events and queue rows removed. */
  readonly rows: number;
  /** Rows of job ids without a job record removed (journal entries and heads, shared data and log, deferred events, events and their seqs, queue rows). */
  readonly orphans: number;
}

/**
 * Removes what finished jobs no longer need once they are older than the TTL: their journal
 * (entries, head, shared data, shared log, deferred events), their events and their queue row;
 * the job record stays (with its result) unless `keepResult` is false. Actions and the ledger
 * are kept (they are the audit trail). Any worker may run it, also several at once: each batch
 * locks its jobs with `FOR UPDATE SKIP LOCKED`, so concurrent sweepers take disjoint jobs, and a
 * batch is one statement, so it is removed whole or not at all.
 *
 * Then, unless `orphans` is false, it removes orphans: rows of a job id that has no job record
 * and no event newer than the TTL (a job deleted by hand leaves its journal, events and queue row
 * behind). Tables with a time (shared log, deferred events, events, queue) lose only rows older
 * than the TTL; the others (journal entries and heads, shared data, event seqs) lose all of such
 * a job id's rows. A journal or bus used without a job store on the same schema is orphaned in this
 * sense: sweep it with `orphans: false`. These passes read the tables without a time whole, in
 * batches of `batchSize` rows, each batch one statement locking its rows with `SKIP LOCKED`.
 */
export async function pruneFinished(database: BatonDatabase, options: PruneFinishedOptions): Promise<PruneFinishedResult> {
  if (!Number.isFinite(options?.olderThanMs) || options.olderThanMs < 0) throw new InvalidArgumentError('olderThanMs', 'must be a number ≥ 0');
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError('batchSize', 'must be a positive integer');
  const keepResult = options.keepResult ?? true;
  const now = Math.floor((options.now ?? Date.now)());
  const t = database.tables;
  const of = (table: string) => `DELETE FROM ${table} AS x USING j WHERE x.scope_id = j.scope_id AND x.job_id = j.id RETURNING 1`;
  const text = `WITH j AS (
      SELECT scope_id, id FROM ${t.jobs}
       WHERE status = ANY($1::text[]) AND (pruned_at IS NULL OR NOT $5::boolean) AND updated_at <= ${msToTs('$2')}
       ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED
    ),
    d1 AS (${of(t.journalEntries)}), d2 AS (${of(t.journalHeads)}), d3 AS (${of(t.sharedData)}), d4 AS (${of(t.sharedLog)}),
    d5 AS (${of(t.deferredEvents)}), d6 AS (${of(t.events)}), d7 AS (${of(t.eventSeqs)}), d8 AS (${of(t.queue)}),
    kept AS (UPDATE ${t.jobs} AS x SET pruned_at = ${msToTs('$4')} FROM j WHERE $5::boolean AND x.scope_id = j.scope_id AND x.id = j.id RETURNING 1),
    gone AS (DELETE FROM ${t.jobs} AS x USING j WHERE NOT $5::boolean AND x.scope_id = j.scope_id AND x.id = j.id RETURNING 1)
    SELECT (SELECT count(*) FROM j)::int AS jobs,
           ((SELECT count(*) FROM d1) + (SELECT count(*) FROM d3) + (SELECT count(*) FROM d4) + (SELECT count(*) FROM d5)
            + (SELECT count(*) FROM d6) + (SELECT count(*) FROM d8))::int AS rows`;
  await database.ready();
  let jobs = 0;
  let rows = 0;
  for (;;) {
    const result = await database.client.query<{ jobs: number; rows: number }>(text, [[...PRUNABLE_STATUSES], now - options.olderThanMs, batchSize, now, keepResult]);
    const batch = num(result.rows[0]?.jobs ?? 0);
    jobs += batch;
    rows += num(result.rows[0]?.rows ?? 0);
    if (batch < batchSize) break;
  }
  let orphans = 0;
  if (options.orphans ?? true) {
    for (const { text, usesNow } of orphanStatements(t)) {
      const params = [now - options.olderThanMs, batchSize, ...(usesNow ? [now] : [])];
      for (;;) {
        const result = await database.client.query<{ n: number }>(text, params);
        const n = num(result.rows[0]?.n ?? 0);
        orphans += n;
        if (n < batchSize) break;
      }
    }
  }
  return { jobs, rows, orphans };
}

/** Each table with per-job rows: its key columns after (scope_id, job_id), and its time column if it has one. */
function orphanTables(t: Tables): ReadonlyArray<{ table: string; key: readonly string[]; at?: string; extra?: string }> {
  return [
    { table: t.journalEntries, key: ['seq'] },
    { table: t.journalHeads, key: [] },
    { table: t.sharedData, key: ['key'] },
    { table: t.sharedLog, key: ['idx'], at: 'at' },
    { table: t.deferredEvents, key: ['ord'], at: 'created_at' },
    { table: t.eventSeqs, key: [] },
    { table: t.events, key: ['seq'], at: 'at' },
    // A row under a live lease is left to its worker (it finds no job and acks or fails it).
    { table: t.queue, key: [], at: 'enqueued_at', extra: `NOT (x.state = 'leased' AND x.lease_expires_at > ${msToTs('$3')})` },
  ];
}

/**
 * One statement per table removing up to `$2` orphaned rows: of job ids with no job record and no
 * event after the cutoff `$1` (epoch ms), and, where the table has a time, older than the cutoff;
 * `$3` (now) only where a condition needs it.
 */
function orphanStatements(t: Tables): Array<{ text: string; usesNow: boolean }> {
  return orphanTables(t).map(({ table, key, at, extra }) => {
    const cols = ['scope_id', 'job_id', ...key];
    const conditions = [
      ...(at ? [`x.${at} <= ${msToTs('$1')}`] : []),
      ...(extra ? [extra] : []),
      `NOT EXISTS (SELECT 1 FROM ${t.jobs} AS j WHERE j.scope_id = x.scope_id AND j.id = x.job_id)`,
      `NOT EXISTS (SELECT 1 FROM ${t.events} AS e WHERE e.scope_id = x.scope_id AND e.job_id = x.job_id AND e.at > ${msToTs('$1')})`,
    ];
    const text = `WITH o AS (
        SELECT ${cols.map((c) => `x.${c}`).join(', ')} FROM ${table} AS x
         WHERE ${conditions.join(' AND ')}
         LIMIT $2 FOR UPDATE OF x SKIP LOCKED
      ),
      d AS (DELETE FROM ${table} AS x USING o WHERE ${cols.map((c) => `x.${c} = o.${c}`).join(' AND ')} RETURNING 1)
      SELECT count(*)::int AS n FROM d`;
    return { text, usesNow: extra !== undefined };
  });
}
