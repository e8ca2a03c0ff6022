import { parseActionRecord, type JobRef, type ResumeReads } from '@baton/agent-runtime';
import type { Tables } from '../sql/tables.js';
import { parseJsonText } from '../sql/values.js';
import { journalLoadOf } from './postgres-journal-store.js';

/**
 * A resume's reads (the job's journal head, entries as `[seq, record]` JSON, deferred-events flag,
 * and actions as `[id, record]` JSON in `listByJob` order) as the columns `r.next_seq`,
 * `r.first_seq`, `r.lease_epoch`, `r.entries`, `r.has_deferred`, `r.actions` of a
 * `LEFT JOIN LATERAL … AS r` on the job row `job` (an alias with `scope_id` and `id`), read only
 * where `when` holds (else every column is null).
 */
export function resumeReadsJoin(t: Tables, job: string, when: string): string {
  return `LEFT JOIN LATERAL (
           SELECT h.next_seq::text AS next_seq, h.first_seq::text AS first_seq, h.lease_epoch::text AS lease_epoch,
                  (SELECT json_agg(json_build_array(je.seq, je.record) ORDER BY je.seq) FROM ${t.journalEntries} AS je WHERE je.scope_id = ${job}.scope_id AND je.job_id = ${job}.id)::text AS entries,
                  EXISTS (SELECT 1 FROM ${t.deferredEvents} AS d WHERE d.scope_id = ${job}.scope_id AND d.job_id = ${job}.id) AS has_deferred,
                  (SELECT json_agg(json_build_array(x.id, x.record) ORDER BY x.created_at, x.id) FROM ${t.actions} AS x WHERE x.scope_id = ${job}.scope_id AND x.job_id = ${job}.id)::text AS actions
             FROM (SELECT 1) AS one
             LEFT JOIN ${t.journalHeads} AS h ON h.scope_id = ${job}.scope_id AND h.job_id = ${job}.id
            WHERE ${when}
         ) AS r ON true`;
}

/** The columns `resumeReadsJoin` adds to a row. */
export const RESUME_READS_COLUMNS = 'r.next_seq, r.first_seq, r.lease_epoch, r.entries, r.has_deferred, r.actions';

/** The columns of `resumeReadsJoin` (all null when it read none). */
export interface ResumeReadsRow {
  next_seq: string | null;
  first_seq: string | null;
  lease_epoch: string | null;
  entries: string | null;
  has_deferred: boolean | null;
  actions: string | null;
}

/** The reads of a row of `resumeReadsJoin`, parsed on first use; `undefined` when it read none. */
export function resumeReadsOf(ref: JobRef, row: Partial<ResumeReadsRow>): ResumeReads | undefined {
  if (row.has_deferred == null) return undefined;
  const hasDeferred = row.has_deferred === true;
  const head = { next_seq: row.next_seq ?? null, first_seq: row.first_seq ?? null, lease_epoch: row.lease_epoch ?? null };
  return {
    journal: once(() => journalLoadOf(ref, head, parseJsonArray<[string | number, unknown]>(row.entries), hasDeferred)),
    actions: once(() => parseJsonArray<[string, unknown]>(row.actions).map(([id, raw]) => parseActionRecord(raw, id))),
  };
}

/** `fn`'s value, computed on the first call (and its error thrown on each). */
function once<T>(fn: () => T): () => T {
  let done: { value: T } | undefined;
  return () => (done ??= { value: fn() }).value;
}

/** A JSON array column (`json_agg`, null for none) as its elements. */
function parseJsonArray<T>(text: string | null | undefined): T[] {
  const parsed = parseJsonText(text ?? '[]');
  return Array.isArray(parsed) ? (parsed as T[]) : [];
}
