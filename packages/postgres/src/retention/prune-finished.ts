import { InvalidArgumentError } from '@baton/llm-client';
import type { BatonDatabase } from '../database.js';
import { msToTs } from '../sql/tables.js';
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
  /** Jobs handled per transaction. Default 500. */
  batchSize?: number | undefined;
  /** Epoch milliseconds; injectable for tests. */
  now?: (() => number) | undefined;
}

export interface PruneFinishedResult {
  /** Finished jobs whose data was removed. */
  readonly jobs: number;
  /** Journal entries, shared data and log records, deferred events, events and queue rows removed. */
  readonly rows: number;
}

/**
 * Removes what finished jobs no longer need once they are older than the TTL: their journal
 * (entries, head, shared data, shared log, deferred events), their events and their queue row;
 * the job record stays (with its result) unless `keepResult` is false. Actions and the ledger
 * are kept (they are the audit trail). Any worker may run it, also several at once: each batch
 * locks its jobs with `FOR UPDATE SKIP LOCKED`, so concurrent sweepers take disjoint jobs, and a
 * batch is one statement, so it is removed whole or not at all.
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
    if (batch < batchSize) return { jobs, rows };
  }
}
