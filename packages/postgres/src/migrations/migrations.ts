import type { Tables } from '../sql/tables.js';

/** One numbered schema change: statements run in order, in one transaction with the others. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (t: Tables) => readonly string[];
}

/**
 * Every table keeps the record it stores whole in `record` (JSONB, validated with the runtime's
 * parser on load) and copies the fields it is queried, ordered, constrained or summed by into
 * typed columns: text ids, TIMESTAMPTZ times (exact epoch milliseconds), NUMERIC money, int8
 * sequence numbers.
 */
const initial: Migration = {
  version: 1,
  name: 'initial tables',
  statements: (t) => [
    `CREATE TABLE ${t.jobs} (
      scope_id text NOT NULL,
      id text COLLATE "C" NOT NULL,
      session_id text,
      parent_job_id text,
      idempotency_key text,
      status text NOT NULL,
      priority text NOT NULL,
      version int4 NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      pruned_at timestamptz,
      record jsonb NOT NULL,
      PRIMARY KEY (scope_id, id)
    )`,
    `CREATE UNIQUE INDEX jobs_idempotency_key ON ${t.jobs} (scope_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    `CREATE INDEX jobs_scope_created ON ${t.jobs} (scope_id, created_at, id)`,
    `CREATE INDEX jobs_scope_session ON ${t.jobs} (scope_id, session_id, created_at, id) WHERE session_id IS NOT NULL`,
    `CREATE INDEX jobs_scope_status ON ${t.jobs} (scope_id, status, created_at, id)`,
    `CREATE INDEX jobs_scope_parent ON ${t.jobs} (scope_id, parent_job_id, created_at, id) WHERE parent_job_id IS NOT NULL`,
    `CREATE INDEX jobs_prunable ON ${t.jobs} (updated_at) WHERE status IN ('completed', 'failed', 'cancelled', 'interrupted') AND pruned_at IS NULL`,

    `CREATE TABLE ${t.journalHeads} (
      scope_id text NOT NULL,
      job_id text COLLATE "C" NOT NULL,
      next_seq int8 NOT NULL DEFAULT 0,
      first_seq int8 NOT NULL DEFAULT 0,
      lease_epoch int8 NOT NULL DEFAULT 0,
      log_next int8 NOT NULL DEFAULT 0,
      PRIMARY KEY (scope_id, job_id)
    )`,
    `CREATE TABLE ${t.journalEntries} (
      scope_id text NOT NULL,
      job_id text COLLATE "C" NOT NULL,
      seq int8 NOT NULL,
      kind text NOT NULL,
      name text NOT NULL,
      status text NOT NULL,
      lease_epoch int8,
      record jsonb NOT NULL,
      PRIMARY KEY (scope_id, job_id, seq)
    )`,
    `CREATE TABLE ${t.sharedData} (
      scope_id text NOT NULL,
      job_id text COLLATE "C" NOT NULL,
      key text NOT NULL,
      value jsonb NOT NULL,
      PRIMARY KEY (scope_id, job_id, key)
    )`,
    `CREATE TABLE ${t.sharedLog} (
      scope_id text NOT NULL,
      job_id text COLLATE "C" NOT NULL,
      idx int8 NOT NULL,
      at timestamptz NOT NULL,
      record jsonb NOT NULL,
      PRIMARY KEY (scope_id, job_id, idx)
    )`,
    `CREATE TABLE ${t.deferredEvents} (
      scope_id text NOT NULL,
      job_id text COLLATE "C" NOT NULL,
      ord int8 GENERATED ALWAYS AS IDENTITY,
      created_at timestamptz NOT NULL,
      record jsonb NOT NULL,
      PRIMARY KEY (scope_id, job_id, ord)
    )`,

    `CREATE TABLE ${t.eventSeqs} (
      scope_id text NOT NULL,
      job_id text COLLATE "C" NOT NULL,
      last_seq int8 NOT NULL,
      PRIMARY KEY (scope_id, job_id)
    )`,
    `CREATE TABLE ${t.events} (
      scope_id text NOT NULL,
      job_id text COLLATE "C" NOT NULL,
      seq int8 NOT NULL,
      id text COLLATE "C" NOT NULL,
      type text NOT NULL,
      session_id text,
      at timestamptz NOT NULL,
      record jsonb NOT NULL,
      PRIMARY KEY (scope_id, job_id, seq)
    )`,
    `CREATE INDEX events_at ON ${t.events} (at)`,

    `CREATE TABLE ${t.actions} (
      id text COLLATE "C" PRIMARY KEY,
      scope_id text NOT NULL,
      job_id text COLLATE "C" NOT NULL,
      status text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      version int4 NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      record jsonb NOT NULL
    )`,
    `CREATE INDEX actions_scope_job ON ${t.actions} (scope_id, job_id, created_at, id)`,
    `CREATE INDEX actions_scope_pending ON ${t.actions} (scope_id, created_at, id) WHERE status = 'pending'`,
    `CREATE INDEX actions_pending_expiry ON ${t.actions} (expires_at, id) WHERE status = 'pending'`,

    `CREATE TABLE ${t.ledgerEvents} (
      id text COLLATE "C" PRIMARY KEY,
      ord int8 GENERATED ALWAYS AS IDENTITY,
      scope_id text NOT NULL,
      job_id text,
      kind text NOT NULL,
      day date NOT NULL,
      total_tokens int8 NOT NULL,
      cost_nano_usd numeric NOT NULL,
      at timestamptz NOT NULL,
      record jsonb NOT NULL
    )`,
    `CREATE INDEX ledger_events_scope_day ON ${t.ledgerEvents} (scope_id, day, kind)`,
    `CREATE INDEX ledger_events_scope_job ON ${t.ledgerEvents} (scope_id, job_id, ord) WHERE job_id IS NOT NULL`,
    `CREATE TABLE ${t.ledgerReservations} (
      id text COLLATE "C" PRIMARY KEY,
      scope_id text NOT NULL,
      job_id text,
      day date NOT NULL,
      tokens int8 NOT NULL,
      cost_nano_usd numeric NOT NULL,
      status text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      record jsonb NOT NULL
    )`,
    `CREATE INDEX ledger_reservations_open ON ${t.ledgerReservations} (scope_id, day, expires_at) WHERE status = 'open'`,
    `CREATE TABLE ${t.ledgerBudgets} (
      scope_id text NOT NULL,
      day date NOT NULL,
      PRIMARY KEY (scope_id, day)
    )`,

    // One row per job that was ever enqueued: `state` is ready, leased, dead_lettered, or done
    // (acked; the row keeps the job's last epoch so that a later enqueue continues it).
    `CREATE TABLE ${t.queue} (
      scope_id text NOT NULL,
      job_id text COLLATE "C" NOT NULL,
      priority text NOT NULL,
      priority_rank int2 NOT NULL,
      state text NOT NULL,
      enqueued_at timestamptz NOT NULL,
      available_at timestamptz NOT NULL,
      ord bigserial NOT NULL,
      claims int4 NOT NULL DEFAULT 0,
      epoch int8 NOT NULL DEFAULT 0,
      worker_id text,
      lease_ms int8,
      lease_expires_at timestamptz,
      requeue_priority text,
      requeue_rank int2,
      requeue_available_at timestamptz,
      last_failure text,
      dead_letter_reason text,
      dead_lettered_at timestamptz,
      PRIMARY KEY (scope_id, job_id),
      CHECK (state IN ('ready', 'leased', 'dead_lettered', 'done')),
      CHECK (priority IN ('critical', 'high', 'normal', 'low') AND priority_rank BETWEEN 0 AND 3),
      CHECK (state <> 'leased' OR (worker_id IS NOT NULL AND lease_expires_at IS NOT NULL))
    )`,
    `CREATE INDEX queue_ready ON ${t.queue} (priority_rank, enqueued_at, ord) WHERE state = 'ready'`,
    `CREATE INDEX queue_leased ON ${t.queue} (lease_expires_at) WHERE state = 'leased'`,
    `CREATE INDEX queue_scope_leased ON ${t.queue} (scope_id) WHERE state = 'leased'`,
    `CREATE INDEX queue_dead_lettered ON ${t.queue} (scope_id, dead_lettered_at, job_id) WHERE state = 'dead_lettered'`,
  ],
};

/**
 * The buses listening for other processes' events (LISTEN on the schema's bus channel), each until
 * `expires_at` unless it renews: a publisher sends a notification only while one is registered,
 * so a database whose events nobody follows from another process carries no notifications.
 */
const busListeners: Migration = {
  version: 2,
  name: 'bus listeners',
  statements: (t) => [
    `CREATE TABLE ${t.busListeners} (
      channel text NOT NULL,
      listener_id text NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (channel, listener_id)
    )`,
  ],
};

/**
 * Where the orphan pass of `pruneFinished` stopped in each table (the key of the last row it
 * read), so that the next call goes on from there whichever process makes it: a sweeper in
 * short-lived processes still reaches the end of a large table.
 */
const sweepCursors: Migration = {
  version: 3,
  name: 'sweep cursors',
  statements: (t) => [
    `CREATE TABLE ${t.sweepCursors} (
      name text PRIMARY KEY,
      position text[] NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  ],
};

/** Every migration, in version order. Append new ones; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [initial, busListeners, sweepCursors];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
