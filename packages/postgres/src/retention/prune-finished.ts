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
  /** Jobs handled per statement, and rows read per statement by the orphan pass. Default 500. */
  batchSize?: number | undefined;
  /**
   * Also remove orphans (default true): rows of job ids that have no job record (a job deleted by
   * hand, or by another tool) and no event newer than the TTL. See `pruneFinished`.
   */
  orphans?: boolean | undefined;
  /**
   * Rows of each table the orphan pass reads per call (default 10,000): a call goes on from where
   * the previous call stopped, in this process or any other (the position is stored in the
   * schema), so its cost stays bounded however large the tables grow, and every row of a table is
   * looked at once in about (its rows ÷ this) calls.
   */
  orphanScanRows?: number | undefined;
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
 * sense: sweep it with `orphans: false`. Orphans have nothing to find them by but the absence of a
 * job record, so this pass walks each table in primary-key order, `batchSize` rows a statement
 * (each deleting the orphans among them, locked with `SKIP LOCKED`), and stops after
 * `orphanScanRows` rows; where it stopped is stored in the schema (`sweep_cursors`), so the next
 * call, of this process or any other (a restarted one, another worker), goes on from there, and
 * after the end of a table starts over at its beginning. A call reads at most `orphanScanRows`
 * rows of each table, however large the tables and however few the orphans. Two sweepers at
 * once may read the same rows; each deletes only rows it could lock.
 */
export async function pruneFinished(database: BatonDatabase, options: PruneFinishedOptions): Promise<PruneFinishedResult> {
  if (!Number.isFinite(options?.olderThanMs) || options.olderThanMs < 0) throw new InvalidArgumentError('olderThanMs', 'must be a number ≥ 0');
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError('batchSize', 'must be a positive integer');
  const scanRows = options.orphanScanRows ?? 10_000;
  if (!Number.isInteger(scanRows) || scanRows < 1) throw new InvalidArgumentError('orphanScanRows', 'must be a positive integer');
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
    // Where the previous call (of any process) stopped in each table.
    const stored = await database.client.query<{ name: string; position: string[] }>(`SELECT name, position FROM ${t.sweepCursors}`);
    const cursors = new Map(stored.rows.map((r) => [r.name, r.position] as const));
    for (const statement of orphanStatements(t)) {
      let cursor: readonly string[] | undefined = cursors.get(statement.name);
      let read = 0;
      while (read < scanRows) {
        const limit = Math.min(batchSize, scanRows - read);
        const params = [now - options.olderThanMs, limit, ...(statement.usesNow ? [now] : []), ...(cursor ?? [])];
        const result = await database.client.query<{ read: number; n: number; last: string[] | null }>(cursor ? statement.after : statement.first, params);
        const row = result.rows[0];
        const page = num(row?.read ?? 0);
        read += page;
        orphans += num(row?.n ?? 0);
        // A short page is the end of the table: the next call starts over.
        cursor = page < limit || !row?.last ? undefined : row.last;
        if (!cursor) break;
      }
      if (cursor) {
        await database.client.query(
          `INSERT INTO ${t.sweepCursors} (name, position, updated_at) VALUES ($1, $2::text[], now())
           ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`,
          [statement.name, cursor],
        );
      } else if (cursors.has(statement.name)) {
        await database.client.query(`DELETE FROM ${t.sweepCursors} WHERE name = $1`, [statement.name]);
      }
    }
  }
  return { jobs, rows, orphans };
}

/**
 * Each table with per-job rows: its key columns after (scope_id, job_id) with their types, and its
 * time column if it has one.
 */
function orphanTables(t: Tables): ReadonlyArray<{ name: string; table: string; key: ReadonlyArray<readonly [string, 'int8' | 'text']>; at?: string; extra?: string }> {
  return [
    { name: 'journal_entries', table: t.journalEntries, key: [['seq', 'int8']] },
    { name: 'journal_heads', table: t.journalHeads, key: [] },
    { name: 'shared_data', table: t.sharedData, key: [['key', 'text']] },
    { name: 'shared_log', table: t.sharedLog, key: [['idx', 'int8']], at: 'at' },
    { name: 'deferred_events', table: t.deferredEvents, key: [['ord', 'int8']], at: 'created_at' },
    { name: 'event_seqs', table: t.eventSeqs, key: [] },
    { name: 'events', table: t.events, key: [['seq', 'int8']], at: 'at' },
    // A row under a live lease is left to its worker (it finds no job and acks or fails it).
    { name: 'queue', table: t.queue, key: [], at: 'enqueued_at', extra: `NOT (x.state = 'leased' AND x.lease_expires_at > ${msToTs('$3')})` },
  ];
}

/**
 * Per table, a statement that reads the next `$2` rows in primary-key order (`first` from the
 * start of the table, `after` past the key in the last parameters) and deletes the orphaned ones
 * among them: rows of job ids with no job record and no event after the cutoff `$1` (epoch ms),
 * and, where the table has a time, older than the cutoff; `$3` is now where a condition needs it.
 * It returns how many rows it read, how many it deleted, and the last key read (as text).
 */
function orphanStatements(t: Tables): Array<{ name: string; table: string; first: string; after: string; usesNow: boolean }> {
  return orphanTables(t).map(({ name, table, key, at, extra }) => {
    const usesNow = extra !== undefined;
    const cols = ['scope_id', 'job_id', ...key.map(([name]) => name)];
    const types = ['text', 'text', ...key.map(([, type]) => type)];
    const list = (alias: string) => cols.map((c) => `${alias}.${c}`).join(', ');
    const same = (a: string, b: string) => cols.map((c) => `${a}.${c} = ${b}.${c}`).join(' AND ');
    const firstParam = usesNow ? 4 : 3;
    const past = `WHERE (${list('x')}) > (${types.map((type, i) => `$${firstParam + i}::${type}`).join(', ')})`;
    const conditions = [...(at ? [`x.${at} <= ${msToTs('$1')}`] : []), ...(extra ? [extra] : [])];
    // Every step is bounded by the page: the page is read from the key index, and each of its job
    // ids is looked up in the jobs and events keys through a LATERAL ... LIMIT 1, which the planner
    // cannot turn into a join reading those tables whole. The OFFSET 0 keeps the time condition out
    // of the events lookup, which then reads the job's events by key, never every event after the
    // cutoff through the index on time.
    const text = (from: string) => `WITH page AS MATERIALIZED (
        SELECT ${list('x')} FROM ${table} AS x ${from} ORDER BY ${list('x')} LIMIT $2
      ),
      ids AS MATERIALIZED (SELECT DISTINCT p.scope_id, p.job_id FROM page AS p),
      jobless AS MATERIALIZED (
        SELECT i.scope_id, i.job_id FROM ids AS i
          LEFT JOIN LATERAL (SELECT true AS found FROM ${t.jobs} AS j WHERE j.scope_id = i.scope_id AND j.id = i.job_id LIMIT 1) AS j ON true
         WHERE j.found IS NULL
      ),
      gone AS MATERIALIZED (
        SELECT i.scope_id, i.job_id FROM jobless AS i
          LEFT JOIN LATERAL (
            SELECT true AS found
              FROM (SELECT e.at FROM ${t.events} AS e WHERE e.scope_id = i.scope_id AND e.job_id = i.job_id OFFSET 0) AS e
             WHERE e.at > ${msToTs('$1')} LIMIT 1
          ) AS e ON true
         WHERE e.found IS NULL
      ),
      o AS (
        SELECT ${list('x')} FROM ${table} AS x JOIN page AS p ON ${same('x', 'p')}
         WHERE ${[`(x.scope_id, x.job_id) IN (SELECT g.scope_id, g.job_id FROM gone AS g)`, ...conditions].join(' AND ')}
         FOR UPDATE OF x SKIP LOCKED
      ),
      d AS (DELETE FROM ${table} AS x USING o WHERE ${same('x', 'o')} RETURNING 1)
      SELECT (SELECT count(*) FROM page)::int AS read, (SELECT count(*) FROM d)::int AS n,
             (SELECT ARRAY[${cols.map((c) => `p.${c}::text`).join(', ')}] FROM page AS p ORDER BY ${cols.map((c) => `p.${c} DESC`).join(', ')} LIMIT 1) AS last`;
    return { name, table, first: text(''), after: text(past), usesNow };
  });
}
