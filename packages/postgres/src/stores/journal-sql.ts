import { eventBatchSql } from '../events/event-batch-sql.js';
import { msToTs, renumber, type Tables } from '../sql/tables.js';

/**
 * The journal store's statements. Parameters `$1` scope id, `$2` job id, `$3` lease epoch (or
 * null) are common to the fenced writes. Every write is one statement: the fence upsert (`f`)
 * locks the job's head row, checks and raises the fence, and the write only happens when it
 * passed, so a stale epoch changes nothing.
 *
 * The appends `…WithEvents` also store a batch of the job's events (`eventBatchSql` from `$9`),
 * only when the entry was inserted; they return one row per event.
 *
 * The batch appends `appendMany…` write n consecutive entries in the same way: `$4` the first
 * seq, `$5` n, `$6` the entries as a JSON array of stored records (seq `$4` + i); the head
 * advances by n, all entries or none. With events, `eventBatchSql` from `$7`.
 */
export function journalSql(t: Tables) {
  const fence = (extraInsert = '', extraValue = '', extraSet = '', returning = '1') => `f AS (
      INSERT INTO ${t.journalHeads} AS h (scope_id, job_id, lease_epoch${extraInsert}) VALUES ($1, $2, coalesce($3::int8, 0)${extraValue})
      ON CONFLICT (scope_id, job_id) DO UPDATE SET lease_epoch = greatest(h.lease_epoch, coalesce($3::int8, 0))${extraSet}
        WHERE $3::int8 IS NULL OR h.lease_epoch <= $3::int8
      RETURNING ${returning}
    )`;
  const insertEntry = `INSERT INTO ${t.journalEntries} (scope_id, job_id, seq, kind, name, status, lease_epoch, record)
      SELECT $1, $2, $4::int8, $5, $6, $7, $3::int8, $8::jsonb FROM ok`;
  /** Seq 0: creates the head (or takes over an empty one made by a fence or shared data). */
  const okFirst = `ok AS (
      INSERT INTO ${t.journalHeads} AS h (scope_id, job_id, next_seq, lease_epoch) VALUES ($1, $2, 1, coalesce($3::int8, 0))
      ON CONFLICT (scope_id, job_id) DO UPDATE SET next_seq = 1, lease_epoch = greatest(h.lease_epoch, coalesce($3::int8, 0))
        WHERE h.next_seq = 0 AND ($3::int8 IS NULL OR h.lease_epoch <= $3::int8)
      RETURNING 1
    )`;
  /** Seq n > 0: when n is the head's next seq and the fence allows it. */
  const okNext = `ok AS (
      UPDATE ${t.journalHeads} SET next_seq = next_seq + 1, lease_epoch = greatest(lease_epoch, coalesce($3::int8, 0))
       WHERE scope_id = $1 AND job_id = $2 AND next_seq = $4::int8 AND ($3::int8 IS NULL OR lease_epoch <= $3::int8)
      RETURNING 1
    )`;
  const events = eventBatchSql(t, 9, 'j');
  const withEvents = (ok: string) => `WITH ${ok}, j AS (${insertEntry} RETURNING 1), ${events.ctes} ${events.select}`;
  /** `$4` first seq, `$5` how many, `$6` JSON array of the stored records, in seq order. */
  const insertEntries = `INSERT INTO ${t.journalEntries} (scope_id, job_id, seq, kind, name, status, lease_epoch, record)
      SELECT $1, $2, $4::int8 + x.n - 1, x.r->>'kind', x.r->>'name', x.r->>'status', $3::int8, x.r
        FROM ok, jsonb_array_elements($6::jsonb) WITH ORDINALITY AS x(r, n)`;
  /** Seq 0: as `okFirst`, the head's next seq set to n. */
  const okManyFirst = `ok AS (
      INSERT INTO ${t.journalHeads} AS h (scope_id, job_id, next_seq, lease_epoch) VALUES ($1, $2, $5::int8, coalesce($3::int8, 0))
      ON CONFLICT (scope_id, job_id) DO UPDATE SET next_seq = $5::int8, lease_epoch = greatest(h.lease_epoch, coalesce($3::int8, 0))
        WHERE h.next_seq = 0 AND ($3::int8 IS NULL OR h.lease_epoch <= $3::int8)
      RETURNING 1
    )`;
  /** Seq n > 0: as `okNext`, advanced by the batch's size. */
  const okManyNext = `ok AS (
      UPDATE ${t.journalHeads} SET next_seq = next_seq + $5::int8, lease_epoch = greatest(lease_epoch, coalesce($3::int8, 0))
       WHERE scope_id = $1 AND job_id = $2 AND next_seq = $4::int8 AND ($3::int8 IS NULL OR lease_epoch <= $3::int8)
      RETURNING 1
    )`;
  /** `appendMany…`'s head advance, only when the earlier CTE `gate` returned a row. */
  const okManyAfter = (gate: string, firstSeq: boolean) =>
    firstSeq
      ? `ok AS (
      INSERT INTO ${t.journalHeads} AS h (scope_id, job_id, next_seq, lease_epoch) SELECT $1, $2, $5::int8, coalesce($3::int8, 0) FROM (SELECT 1 FROM ${gate} LIMIT 1) AS g
      ON CONFLICT (scope_id, job_id) DO UPDATE SET next_seq = $5::int8, lease_epoch = greatest(h.lease_epoch, coalesce($3::int8, 0))
        WHERE h.next_seq = 0 AND ($3::int8 IS NULL OR h.lease_epoch <= $3::int8)
      RETURNING 1
    )`
      : `ok AS (
      UPDATE ${t.journalHeads} SET next_seq = next_seq + $5::int8, lease_epoch = greatest(lease_epoch, coalesce($3::int8, 0))
       WHERE scope_id = $1 AND job_id = $2 AND next_seq = $4::int8 AND ($3::int8 IS NULL OR lease_epoch <= $3::int8) AND EXISTS (SELECT 1 FROM ${gate})
      RETURNING 1
    )`;
  const manyEvents = eventBatchSql(t, 7, 'j');
  // `j` is one row once the entries are in (the gate of the events' seq reservation takes one row).
  const manyWithEvents = (ok: string) =>
    `WITH ${ok}, w AS (${insertEntries} RETURNING 1), j AS (SELECT 1 FROM w HAVING count(*) > 0), ${manyEvents.ctes} ${manyEvents.select}`;
  return {
    /** Appends seq 0: creates the head (or takes over an empty one made by a fence or shared data). */
    appendFirst: `WITH ${okFirst} ${insertEntry}`,
    /** Appends seq n > 0 when n is the head's next seq and the fence allows it. */
    appendNext: `WITH ${okNext} ${insertEntry}`,
    appendFirstWithEvents: withEvents(okFirst),
    appendNextWithEvents: withEvents(okNext),
    /** Appends seqs 0…n-1 (as `appendFirst`). */
    appendManyFirst: `WITH ${okManyFirst} ${insertEntries}`,
    /** Appends seqs `$4`…`$4`+n-1 when `$4` is the head's next seq and the fence allows it. */
    appendManyNext: `WITH ${okManyNext} ${insertEntries}`,
    appendManyFirstWithEvents: manyWithEvents(okManyFirst),
    /**
     * `appendMany…` as CTEs for another store's statement, written only when the earlier CTE
     * `gate` returned a row: `ok` (the head advanced), `w` (the entries) and `jw` (one row once
     * they are in); `$1`…`$6` renumbered from `$first`.
     */
    appendManyAfter: (first: number, gate: string, firstSeq: boolean): string =>
      renumber(`${okManyAfter(gate, firstSeq)}, w AS (${insertEntries} RETURNING 1), jw AS (SELECT 1 FROM w HAVING count(*) > 0)`, first),
    appendManyNextWithEvents: manyWithEvents(okManyNext),
    list: `SELECT je.seq::text AS seq, je.record::text AS record FROM ${t.journalEntries} AS je
      WHERE je.scope_id = $1 AND je.job_id = $2 AND je.seq >= $3::int8 ORDER BY je.seq LIMIT $4::int8`,
    head: `SELECT next_seq::text AS next_seq, first_seq::text AS first_seq, lease_epoch::text AS lease_epoch
      FROM ${t.journalHeads} WHERE scope_id = $1 AND job_id = $2`,
    /** The head (null columns when none) on every row, with the entries in seq order (one row with a null seq when none). */
    load: `SELECT h.next_seq::text AS next_seq, h.first_seq::text AS first_seq, h.lease_epoch::text AS lease_epoch, je.seq::text AS seq, je.record::text AS record,
        EXISTS (SELECT 1 FROM ${t.deferredEvents} AS d WHERE d.scope_id = $1 AND d.job_id = $2) AS has_deferred
      FROM (SELECT $1::text AS scope_id, $2::text AS job_id) AS k
      LEFT JOIN ${t.journalHeads} AS h ON h.scope_id = k.scope_id AND h.job_id = k.job_id
      LEFT JOIN ${t.journalEntries} AS je ON je.scope_id = k.scope_id AND je.job_id = k.job_id
      ORDER BY je.seq`,
    fence: `WITH ${fence()} SELECT count(*)::int AS fenced FROM f`,
    setSharedData: `WITH ${fence()}, w AS (
      INSERT INTO ${t.sharedData} (scope_id, job_id, key, value)
      SELECT $1, $2, x.key, x.value FROM f, jsonb_each($4::jsonb) AS x
      ON CONFLICT (scope_id, job_id, key) DO UPDATE SET value = EXCLUDED.value
      RETURNING 1
    ) SELECT count(*)::int AS fenced FROM f`,
    deleteSharedData: `WITH ${fence()}, w AS (
      DELETE FROM ${t.sharedData} WHERE scope_id = $1 AND job_id = $2 AND key = ANY($4::text[]) AND EXISTS (SELECT 1 FROM f)
      RETURNING 1
    ) SELECT count(*)::int AS fenced FROM f`,
    getSharedData: `SELECT key, value::text AS value FROM ${t.sharedData} WHERE scope_id = $1 AND job_id = $2 ORDER BY key`,
    /** `$4` how many entries, `$5` JSON array of values, `$6` epoch ms (record), `$7` epoch ms (column). */
    appendSharedLog: `WITH ${fence(', log_next', ', $4::int8', ', log_next = h.log_next + $4::int8', 'h.log_next - $4::int8 AS start')}, w AS (
      INSERT INTO ${t.sharedLog} (scope_id, job_id, idx, at, record)
      SELECT $1, $2, f.start + x.n - 1, ${msToTs('$7')},
             jsonb_build_object('schemaVersion', 1, 'jobId', $2::text, 'scopeId', $1::text, 'index', f.start + x.n - 1, 'value', x.v, 'at', $6::numeric)
        FROM f, jsonb_array_elements($5::jsonb) WITH ORDINALITY AS x(v, n)
      RETURNING 1
    ) SELECT start::text AS start FROM f`,
    listSharedLog: `SELECT sl.idx::text AS idx, sl.record::text AS record FROM ${t.sharedLog} AS sl
      WHERE sl.scope_id = $1 AND sl.job_id = $2 AND sl.idx >= $3::int8 ORDER BY sl.idx LIMIT $4::int8`,
    /** `$4` epoch ms (column), `$5` JSON array of records. */
    addDeferredEvents: `WITH ${fence()}, w AS (
      INSERT INTO ${t.deferredEvents} (scope_id, job_id, created_at, record)
      SELECT $1, $2, ${msToTs('$4')}, x.e FROM f, jsonb_array_elements($5::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY x.n
      RETURNING 1
    ) SELECT count(*)::int AS fenced FROM f`,
    takeDeferredEvents: `WITH ${fence()}, d AS (
      DELETE FROM ${t.deferredEvents} WHERE scope_id = $1 AND job_id = $2 AND EXISTS (SELECT 1 FROM f)
      RETURNING ord, record
    ) SELECT (SELECT count(*)::int FROM f) AS fenced, (SELECT coalesce(jsonb_agg(record ORDER BY ord), '[]'::jsonb) FROM d)::text AS events`,
    delete: `WITH e AS (DELETE FROM ${t.journalEntries} WHERE scope_id = $1 AND job_id = $2),
      s AS (DELETE FROM ${t.sharedData} WHERE scope_id = $1 AND job_id = $2),
      l AS (DELETE FROM ${t.sharedLog} WHERE scope_id = $1 AND job_id = $2),
      d AS (DELETE FROM ${t.deferredEvents} WHERE scope_id = $1 AND job_id = $2)
      DELETE FROM ${t.journalHeads} WHERE scope_id = $1 AND job_id = $2`,
    prune: `WITH h AS (
      UPDATE ${t.journalHeads} SET first_seq = greatest(first_seq, least($3::int8, next_seq))
       WHERE scope_id = $1 AND job_id = $2 RETURNING first_seq
    ), d AS (
      DELETE FROM ${t.journalEntries} WHERE scope_id = $1 AND job_id = $2 AND seq < (SELECT first_seq FROM h) RETURNING 1
    ) SELECT count(*)::int AS pruned FROM d`,
  };
}

export type JournalSql = ReturnType<typeof journalSql>;

