import { MAX_NOTIFY_PAYLOAD_BYTES } from '../notifications/channel-names.js';
import { msToTs, type Tables } from '../sql/tables.js';

/** How many parameters `eventBatchSql` uses, from its first one on. */
export const EVENT_BATCH_PARAMS = 6;

/**
 * SQL that stores a batch of one job's events, as CTEs to put in a statement's `WITH` and the
 * statement's final SELECT. Parameters, from `$first`: scope id, job id, how many events, the
 * events as a JSON array (records with any seq; the stored one gets its own), the notification
 * channel (null: none; no notification either while no bus listens on it: `listenedOn`), and
 * the publishing bus's origin.
 *
 * `s` reserves the seqs (`last_seq + n` on the job's `event_seqs` row, whose lock orders
 * concurrent publishers), `e` inserts the rows; the SELECT returns one row per event in seq order
 * and sends one notification for the whole batch: `{o, s, j, q, n, r}` with `q` the first seq,
 * `n` how many, and `r` the stored records when the payload stays under Postgres' limit (else
 * the receiver reads the n events from `q`). With `gate` (the name of an earlier CTE), nothing is
 * reserved or stored unless that CTE returned a row: events go with a write only when the write
 * happened.
 */
export function eventBatchSql(t: Tables, first: number, gate?: string): { ctes: string; select: string } {
  const p = (i: number): string => `$${first + i}`;
  const ctes = `s AS (
      INSERT INTO ${t.eventSeqs} AS q (scope_id, job_id, last_seq)
      SELECT ${p(0)}::text, ${p(1)}::text, ${p(2)}::int8${gate ? ` FROM ${gate}` : ''}
      ON CONFLICT (scope_id, job_id) DO UPDATE SET last_seq = q.last_seq + ${p(2)}::int8
      RETURNING q.last_seq - ${p(2)}::int8 AS base
    ), e AS (
      INSERT INTO ${t.events} (scope_id, job_id, seq, id, type, session_id, at, record)
      SELECT ${p(0)}::text, ${p(1)}::text, s.base + x.n, x.r->>'id', x.r->>'type', x.r->>'sessionId',
             ${msToTs(`floor((x.r->>'at')::numeric)`)}, jsonb_set(x.r, '{seq}', to_jsonb(s.base + x.n))
        FROM s, jsonb_array_elements(${p(3)}::jsonb) WITH ORDINALITY AS x(r, n)
       ORDER BY x.n
      RETURNING seq, record
    )`;
  const head = `'o', ${p(5)}::text, 's', ${p(0)}::text, 'j', ${p(1)}::text, 'q', s.base + 1, 'n', ${p(2)}::int8`;
  // One notification for the batch, sent from the first event's row only; the records ride along when they fit.
  const notice = `(SELECT CASE WHEN octet_length(b.full) <= ${MAX_NOTIFY_PAYLOAD_BYTES} THEN b.full ELSE json_build_object(${head})::text END
      FROM (SELECT json_build_object(${head}, 'r', json_agg(e2.record ORDER BY e2.seq))::text AS full FROM e AS e2) AS b)`;
  const select = `SELECT e.seq::text AS seq, CASE WHEN ${p(4)}::text IS NOT NULL AND e.seq = s.base + 1 AND ${listenedOn(t, `${p(4)}::text`)} THEN pg_notify(${p(4)}::text, ${notice}) END AS notified
      FROM e, s ORDER BY e.seq`;
  return { ctes, select };
}

/** SQL: whether a bus of any process is registered as listening on `channel` (an SQL text expression). */
export function listenedOn(t: Tables, channel: string): string {
  return `EXISTS (SELECT 1 FROM ${t.busListeners} AS bl WHERE bl.channel = ${channel} AND bl.expires_at > now())`;
}
