import { msToTs, renumber, tsToMs, type Tables } from '../sql/tables.js';
import { RESUME_READS_COLUMNS, resumeReadsJoin } from '../stores/resume-reads.js';

/**
 * The queue's statements. Lease operations share `$1` scope, `$2` job, `$3` epoch, `$4` worker,
 * `$5` now (epoch ms): they change the row only while that lease holds it, unexpired.
 */
export function queueSql(t: Tables) {
  const held = `q.scope_id = $1 AND q.job_id = $2 AND q.state = 'leased' AND q.epoch = $3::int8 AND q.worker_id = $4 AND q.lease_expires_at > ${msToTs('$5')}`;
  const fresh = `q.state IN ('done', 'dead_lettered')`;
  /** Applies a pending re-enqueue (made while the job was leased), as the job becomes ready again. */
  const applyRequeue = `priority = coalesce(q.requeue_priority, q.priority), priority_rank = coalesce(q.requeue_rank, q.priority_rank),
      requeue_priority = NULL, requeue_rank = NULL, requeue_available_at = NULL`;
  /** The claim of `claimFast`, with `columns` added to its rows and `join` to its FROM. */
  const claimWith = (columns: string, join = ''): string => `WITH sweep AS (
        UPDATE ${t.queue} AS q SET state = 'ready', worker_id = NULL, lease_expires_at = NULL, last_failure = 'lease expired',
            available_at = coalesce(q.requeue_available_at, q.available_at), ${applyRequeue}
          FROM (SELECT scope_id, job_id FROM ${t.queue} WHERE state = 'leased' AND lease_expires_at <= ${msToTs('$1')} FOR UPDATE SKIP LOCKED) AS x
         WHERE q.scope_id = x.scope_id AND q.job_id = x.job_id
        RETURNING 1
      ), c AS (
        SELECT q.scope_id, q.job_id FROM ${t.queue} AS q
         WHERE q.state = 'ready' AND q.available_at <= ${msToTs('$1')} AND q.claims < $2::int4
         ORDER BY q.priority_rank, q.enqueued_at, q.ord
         LIMIT $3
         FOR UPDATE OF q SKIP LOCKED
      ), l AS (
        UPDATE ${t.queue} AS q SET state = 'leased', claims = q.claims + 1, epoch = q.epoch + 1, worker_id = $4, lease_ms = $5::int8,
            lease_expires_at = ${msToTs('$6')}
          FROM c WHERE q.scope_id = c.scope_id AND q.job_id = c.job_id
        RETURNING q.scope_id, q.job_id, q.priority, q.claims, q.epoch::text AS epoch_text, q.priority_rank, ${tsToMs('q.enqueued_at')} AS enqueued_ms, q.ord::text AS ord_text
      )
      SELECT l.*, jr.record::text AS job_record, (SELECT count(*)::int FROM sweep) AS swept,
             EXISTS (SELECT 1 FROM ${t.queue} AS p WHERE p.state = 'ready' AND p.available_at <= ${msToTs('$1')} AND p.claims >= $2::int4) AS poison${columns}
        FROM (SELECT 1) AS one LEFT JOIN l ON true
        LEFT JOIN ${t.jobs} AS jr ON jr.scope_id = l.scope_id AND jr.id = l.job_id${join}`;
  /** The enqueue of the row `source` gives (`VALUES …` or a `SELECT` gated on another write). */
  const enqueueInto = (source: string): string => `INSERT INTO ${t.queue} AS q (scope_id, job_id, priority, priority_rank, state, enqueued_at, available_at)
      ${source}
      ON CONFLICT (scope_id, job_id) DO UPDATE SET
        requeue_priority = CASE WHEN q.state = 'leased' THEN EXCLUDED.priority END,
        requeue_rank = CASE WHEN q.state = 'leased' THEN EXCLUDED.priority_rank END,
        requeue_available_at = CASE WHEN q.state = 'leased' THEN EXCLUDED.available_at END,
        priority = CASE WHEN q.state = 'leased' THEN q.priority ELSE EXCLUDED.priority END,
        priority_rank = CASE WHEN q.state = 'leased' THEN q.priority_rank ELSE EXCLUDED.priority_rank END,
        available_at = CASE WHEN q.state = 'leased' THEN q.available_at ELSE EXCLUDED.available_at END,
        enqueued_at = CASE WHEN ${fresh} THEN EXCLUDED.enqueued_at ELSE q.enqueued_at END,
        ord = CASE WHEN ${fresh} THEN EXCLUDED.ord ELSE q.ord END,
        claims = CASE WHEN ${fresh} THEN 0 ELSE q.claims END,
        last_failure = CASE WHEN ${fresh} THEN NULL ELSE q.last_failure END,
        dead_letter_reason = CASE WHEN ${fresh} THEN NULL ELSE q.dead_letter_reason END,
        dead_lettered_at = CASE WHEN ${fresh} THEN NULL ELSE q.dead_lettered_at END,
        state = CASE WHEN ${fresh} THEN 'ready' ELSE q.state END`;
  /** `$6` the queue table's name, for its `ord` sequence. */
  const ack = `UPDATE ${t.queue} AS q SET
        state = CASE WHEN q.requeue_priority IS NULL THEN 'done' ELSE 'ready' END,
        claims = CASE WHEN q.requeue_priority IS NULL THEN q.claims ELSE 0 END,
        enqueued_at = CASE WHEN q.requeue_priority IS NULL THEN q.enqueued_at ELSE ${msToTs('$5')} END,
        ord = CASE WHEN q.requeue_priority IS NULL THEN q.ord ELSE nextval(pg_get_serial_sequence($6, 'ord')) END,
        available_at = coalesce(q.requeue_available_at, q.available_at),
        worker_id = NULL, lease_expires_at = NULL, ${applyRequeue}
      WHERE ${held}`;
  return {
    /** `$3` priority, `$4` rank, `$5` now, `$6` available at. */
    enqueue: enqueueInto(`VALUES ($1, $2, $3, $4, 'ready', ${msToTs('$5')}, ${msToTs('$6')})`),
    /** `enqueue`, only when the earlier CTE `gate` returned a row. */
    enqueueAfter: (gate: string): string =>
      enqueueInto(`SELECT $1::text, $2::text, $3::text, $4::int2, 'ready', ${msToTs('$5')}, ${msToTs('$6')} FROM (SELECT 1 FROM ${gate} LIMIT 1) AS g`),
    /** Leases that ran out at `$1` become ready again (rows another claimer holds are left to it). */
    sweepExpired: `UPDATE ${t.queue} AS q SET state = 'ready', worker_id = NULL, lease_expires_at = NULL, last_failure = 'lease expired',
        available_at = coalesce(q.requeue_available_at, q.available_at), ${applyRequeue}
      FROM (SELECT scope_id, job_id FROM ${t.queue} WHERE state = 'leased' AND lease_expires_at <= ${msToTs('$1')} FOR UPDATE SKIP LOCKED) AS x
      WHERE q.scope_id = x.scope_id AND q.job_id = x.job_id`,
    /** Ready jobs at `$1` in claim order after the position (`$2` rank, `$3` enqueued ms, `$4` ord), locked, at most `$5`. */
    candidates: `SELECT q.scope_id, q.job_id, q.priority, q.claims, q.last_failure, q.priority_rank,
        ${tsToMs('q.enqueued_at')} AS enqueued_ms, q.ord::text AS ord_text
      FROM ${t.queue} AS q
      WHERE q.state = 'ready' AND q.available_at <= ${msToTs('$1')}
        AND (q.priority_rank, q.enqueued_at, q.ord) > ($2::int2, ${msToTs('$3')}, $4::int8)
      ORDER BY q.priority_rank, q.enqueued_at, q.ord
      LIMIT $5
      FOR UPDATE OF q SKIP LOCKED`,
    /**
     * The whole claim without a per-scope limit, in one statement: expired leases become ready
     * (claimable from the next claim on: this statement's snapshot predates them), then up to `$3`
     * ready jobs at `$1` below `$2` claims are leased to `$4` for `$5` ms until `$6`. One row per
     * leased job (with its job's record, when the job store shares the schema), or one row of
     * nulls; every row says how many leases expired (`swept`) and
     * whether a ready job reached `$2` claims (`poison`: the caller dead-letters it).
     */
    claimFast: claimWith(''),
    /** `claimFast`, and for each claimed job that waits for an action its journal and actions (`resumeReadsJoin`). */
    claimFastWithReads: claimWith(`, ${RESUME_READS_COLUMNS}`, `\n        ${resumeReadsJoin(t, 'jr', "jr.status = 'waiting_for_action'")}`),

    /** Ready jobs at `$1` that reached `$2` claims (at most 100, oldest first) become dead-lettered. */
    deadLetterPoison: `UPDATE ${t.queue} AS q SET state = 'dead_lettered', dead_lettered_at = ${msToTs('$1')},
        dead_letter_reason = 'claimed ' || q.claims || ' times without completing (maxClaims ' || $2::int4 || '); last: ' || coalesce(q.last_failure, 'unknown')
      FROM (SELECT scope_id, job_id FROM ${t.queue} WHERE state = 'ready' AND available_at <= ${msToTs('$1')} AND claims >= $2::int4
             ORDER BY priority_rank, enqueued_at, ord LIMIT 100 FOR UPDATE SKIP LOCKED) AS x
      WHERE q.scope_id = x.scope_id AND q.job_id = x.job_id
      RETURNING q.scope_id, q.job_id, q.priority, q.claims, q.dead_letter_reason`,
    leasedPerScope: `SELECT scope_id, count(*)::int AS leased FROM ${t.queue} WHERE state = 'leased' AND scope_id = ANY($1::text[]) GROUP BY scope_id`,
    /** `$1`/`$2` scope and job ids, `$3` worker, `$4` lease ms, `$5` lease expiry ms. */
    lease: `UPDATE ${t.queue} AS q SET state = 'leased', claims = q.claims + 1, epoch = q.epoch + 1, worker_id = $3, lease_ms = $4::int8,
        lease_expires_at = ${msToTs('$5')}
      FROM unnest($1::text[], $2::text[]) AS x(scope_id, job_id)
      WHERE q.scope_id = x.scope_id AND q.job_id = x.job_id
      RETURNING q.scope_id, q.job_id, q.priority, q.claims, q.epoch::text AS epoch_text`,
    /** `$3` claims, `$4` reason, `$5` now. */
    deadLetter: `UPDATE ${t.queue} AS q SET state = 'dead_lettered', dead_letter_reason = $4, dead_lettered_at = ${msToTs('$5')}
      WHERE q.scope_id = $1 AND q.job_id = $2 AND q.claims = $3::int4 AND q.state = 'ready'`,
    /** `$6` lease ms or null (the claim's). */
    heartbeat: `UPDATE ${t.queue} AS q SET lease_expires_at = ${msToTs('$5::int8 + coalesce($6::int8, q.lease_ms)')}
      WHERE ${held} RETURNING ${tsToMs('q.lease_expires_at')} AS lease_expires_ms`,
    /** `$6` the queue table's name, for its `ord` sequence. */
    ack,
    /**
     * `ack` as CTE `ak` (a row when the lease held and the earlier CTE `gate` returned one), its
     * `$1`…`$6` renumbered from `$first`: for another store's statement to write with it.
     */
    ackAfter: (first: number, gate: string): string => `ak AS (${renumber(ack, first)} AND EXISTS (SELECT 1 FROM ${gate}) RETURNING 1)`,
    /** `$6` reason, `$7` max claims, `$8` retry delay ms. */
    nack: `UPDATE ${t.queue} AS q SET last_failure = $6::text, worker_id = NULL, lease_expires_at = NULL,
        state = CASE WHEN q.claims >= $7::int4 THEN 'dead_lettered' ELSE 'ready' END,
        dead_letter_reason = CASE WHEN q.claims >= $7::int4
          THEN 'claimed ' || q.claims || ' times without completing (maxClaims ' || $7::int4 || '); last: ' || $6::text END,
        dead_lettered_at = CASE WHEN q.claims >= $7::int4 THEN ${msToTs('$5')} END,
        available_at = CASE WHEN q.claims >= $7::int4 THEN q.available_at ELSE coalesce(q.requeue_available_at, ${msToTs('$5::int8 + $8::int8')}) END,
        priority = CASE WHEN q.claims >= $7::int4 THEN q.priority ELSE coalesce(q.requeue_priority, q.priority) END,
        priority_rank = CASE WHEN q.claims >= $7::int4 THEN q.priority_rank ELSE coalesce(q.requeue_rank, q.priority_rank) END,
        requeue_priority = CASE WHEN q.claims >= $7::int4 THEN q.requeue_priority END,
        requeue_rank = CASE WHEN q.claims >= $7::int4 THEN q.requeue_rank END,
        requeue_available_at = CASE WHEN q.claims >= $7::int4 THEN q.requeue_available_at END
      WHERE ${held}
      RETURNING q.state, q.priority, q.claims, q.dead_letter_reason, ${tsToMs('q.available_at')} AS available_ms`,
    /** `$6` delay ms. */
    release: `UPDATE ${t.queue} AS q SET claims = greatest(0, q.claims - 1), state = 'ready', worker_id = NULL, lease_expires_at = NULL,
        available_at = coalesce(q.requeue_available_at, ${msToTs('$5::int8 + $6::int8')}), ${applyRequeue}
      WHERE ${held}`,
    remove: `DELETE FROM ${t.queue} WHERE scope_id = $1 AND job_id = $2`,
    get: `SELECT q.scope_id, q.job_id, q.priority, q.state, ${tsToMs('q.enqueued_at')} AS enqueued_ms, ${tsToMs('q.available_at')} AS available_ms,
        q.claims, q.epoch::text AS epoch_text, q.worker_id, ${tsToMs('q.lease_expires_at')} AS lease_expires_ms, q.last_failure, q.dead_letter_reason
      FROM ${t.queue} AS q WHERE q.scope_id = $1 AND q.job_id = $2`,
    listDeadLettered: `SELECT q.scope_id, q.job_id, q.priority, q.claims, q.dead_letter_reason, ${tsToMs('q.dead_lettered_at')} AS dead_lettered_ms
      FROM ${t.queue} AS q WHERE q.scope_id = $1 AND q.state = 'dead_lettered' ORDER BY q.dead_lettered_at, q.job_id LIMIT $2::int8`,
  };
}

export type QueueSql = ReturnType<typeof queueSql>;

