import { InvalidArgumentError } from '@baton/llm-client';
import { ActionRecordSchema, ActionStore, DuplicateActionError, parseActionRecord, type ActionRecord, type CompareAndSetResult, type EnqueueWithWakeUp, type EventOutbox, type JobRecord, type JobStore, type JournalStore, type ResumeReads, type RuntimeEvent, type WriteSignal } from '@baton/agent-runtime';
import type { PostgresConnectionOptions } from '../database.js';
import type { MigrationResult } from '../migrations/migrate.js';
import { sqlState } from '../sql/driver-errors.js';
import { msToTs, type Tables } from '../sql/tables.js';
import { jsonParam, limitOf, mapValueError, parseJsonText } from '../sql/values.js';
import { validateInput } from '../sql/validate-input.js';
import { StoreContext } from '../store-context.js';
import { registerStore, storeOnDatabase } from '../events/event-outbox.js';
import { PostgresJobStore, type GatedWrite, type PriorWrite } from './postgres-job-store.js';
import { PostgresJobQueue } from '../queue/postgres-job-queue.js';
import { notificationOn } from './postgres-signal-channel.js';
import { PostgresJournalStore } from './postgres-journal-store.js';
import { RESUME_READS_COLUMNS, resumeReadsJoin, resumeReadsOf, type ResumeReadsRow } from './resume-reads.js';

const DEFAULT_LIMIT = 100;

/**
 * `ActionStore` on Postgres or PGlite. Every query is scoped; `compareAndSet` is one conditional
 * UPDATE on the stored version, so of two concurrent writers exactly one wins. The resume token's
 * hash is unique across the table.
 */
export class PostgresActionStore extends ActionStore {
  private readonly ctx: StoreContext;

  /** The action by its token with its job; and with the job's journal and actions too (`resumeReadsJoin`). */
  private readonly byToken: { plain: string; withReads: string };

  constructor(options: PostgresConnectionOptions) {
    super();
    this.ctx = new StoreContext(options);
    this.byToken = byTokenSql(this.ctx.tables);
    // Other stores on the database (the queue's claim) may read its rows in their statements.
    registerStore(this, this.ctx.database);
  }

  /** Creates or upgrades the tables (idempotent). */
  setup(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  migrate(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  override async close(): Promise<void> {
    await this.ctx.close();
  }

  async create(record: ActionRecord): Promise<void> {
    const r = validateInput(ActionRecordSchema, record, 'record');
    if (r.version !== 1) throw new InvalidArgumentError('record.version', 'a new action starts at version 1');
    const sql = await this.ctx.sql();
    try {
      await sql.query(
        `INSERT INTO ${this.ctx.tables.actions} (id, scope_id, job_id, status, token_hash, version, created_at, expires_at, record)
         VALUES ($1, $2, $3, $4, $5, 1, ${msToTs('$6')}, ${msToTs('$7')}, $8::jsonb)`,
        [r.id, r.scopeId, r.jobId, r.status, r.tokenHash, r.createdAt, r.expiresAt, jsonParam(r)],
      );
    } catch (error) {
      if (sqlState(error) === '23505') throw new DuplicateActionError(r.id);
      throw mapValueError(error, 'record');
    }
  }

  /**
   * With a `PostgresJobStore` on the same database: one statement inserts the actions only when
   * the job's compare-and-set matched, and stores the outbox's events with them (a pause is one
   * write). Otherwise: create, then update.
   */
  override async createWithJobUpdate(actions: readonly ActionRecord[], update: { store: JobStore; job: JobRecord; outbox?: EventOutbox | undefined }): Promise<{ job: JobRecord; events: RuntimeEvent[] }> {
    const jobs = update.store;
    if (!(jobs instanceof PostgresJobStore) || !this.sharesDatabaseWith(jobs) || actions.length === 0) {
      return super.createWithJobUpdate(actions, update);
    }
    return jobs.updateWithGatedWrite(update.job, update.outbox, this.createGated(actions));
  }

  /**
   * Internal to this package: the insert of `actions` (checked: valid new records) as CTE `a`,
   * for a job store's statement to write only when the job's update did (`FROM j`).
   */
  createGated(actions: readonly ActionRecord[]): GatedWrite {
    const records = actions.map((record, i) => {
      const r = validateInput(ActionRecordSchema, record, `actions[${i}]`);
      if (r.version !== 1) throw new InvalidArgumentError(`actions[${i}].version`, 'a new action starts at version 1');
      return r;
    });
    const t = this.ctx.tables;
    const ids = records.map((r) => r.id).join(', ');
    return {
      ctes: (first) => `a AS (
        INSERT INTO ${t.actions} (id, scope_id, job_id, status, token_hash, version, created_at, expires_at, record)
        SELECT x.r->>'id', x.r->>'scopeId', x.r->>'jobId', x.r->>'status', x.r->>'tokenHash', 1,
               ${msToTs(`(x.r->>'createdAt')::numeric::int8`)}, ${msToTs(`(x.r->>'expiresAt')::numeric::int8`)}, x.r
          FROM j, jsonb_array_elements($${first}::jsonb) AS x(r)
        RETURNING 1
      )`,
      params: [jsonParam(records)],
      key: 'actions',
      argument: 'actions',
      mapError: (error) => (sqlState(error) === '23505' ? new DuplicateActionError(ids) : undefined),
    };
  }

  /**
   * With a `PostgresJobStore` on the same database: the action and its job in one query. With a
   * `PostgresJournalStore` there too (`also.journal`), the same query reads, when the job waits
   * and the action is pending with at most one approval to go, the job's journal head, entries
   * and deferred-events flag, and the job's actions: a resume's reads, in one statement.
   */
  override async getByTokenHashWithJob(
    query: { scopeId: string; tokenHash: string },
    jobs: JobStore,
    also?: { journal?: JournalStore | undefined },
  ): Promise<{ action: ActionRecord; job: JobRecord | undefined; reads?: ResumeReads | undefined } | undefined> {
    if (!(jobs instanceof PostgresJobStore) || !this.sharesDatabaseWith(jobs)) return super.getByTokenHashWithJob(query, jobs, also);
    const journal = also?.journal;
    const withReads = journal instanceof PostgresJournalStore && this.sharesDatabaseWith(journal);
    const sql = await this.ctx.sql();
    type Row = { id: string; record: string; job_scope_id: string | null; job_id: string | null; job_record: string | null } & Partial<ResumeReadsRow>;
    const { rows } = await sql.query<Row>(withReads ? this.byToken.withReads : this.byToken.plain, [query.tokenHash, query.scopeId], { prepare: true });
    const row = rows[0];
    if (!row) return undefined;
    const action = load(row);
    const job = row.job_record === null ? undefined : jobs.loadRow({ scope_id: row.job_scope_id ?? '', id: row.job_id ?? '', record: row.job_record });
    const reads = withReads && job !== undefined ? resumeReadsOf({ scopeId: job.scopeId, jobId: job.id }, row) : undefined;
    if (reads === undefined) return { action, job };
    return { action, job, reads };
  }

  /**
   * With a `PostgresJobStore` on the same database: one statement locks both rows at the
   * versions expected, writes the answer and the job's change, and stores the outbox's events
   * (a resume is one write). When either record changed since it was read, that statement writes
   * nothing and the answer goes the ordinary way: compare-and-set, then the job.
   */
  override async compareAndSetWithJobUpdate(
    answer: { record: ActionRecord; expectedVersion: number },
    update: { store: JobStore; job: JobRecord; outbox?: EventOutbox | undefined; signal?: WriteSignal | undefined },
  ): Promise<{ action: CompareAndSetResult; job?: { job: JobRecord; events: RuntimeEvent[] } | undefined }> {
    const jobs = update.store;
    if (!(jobs instanceof PostgresJobStore) || !this.sharesDatabaseWith(jobs)) return super.compareAndSetWithJobUpdate(answer, update);
    const { stored, expected } = prepareSet(answer);
    const notify = notificationOn(this.ctx.database, update.signal);
    const written = await jobs.updateAfterWrite(update.job, update.outbox, answerWrite(this.ctx.tables, stored, expected, { lockJob: true, notify }));
    if (written !== undefined) return { action: { ok: true, record: stored, signalled: notify !== undefined }, job: written };
    return super.compareAndSetWithJobUpdate(answer, update);
  }

  /**
   * With a `PostgresJobQueue` (and its signals and bus) on the same database: one statement
   * writes the answer (with its `answered` notification when that channel is on this database)
   * and, only when its compare-and-set matched, enqueues the job with the outbox's events and the
   * wake-up notification. Otherwise as the port's default.
   */
  override async compareAndSetWithEnqueue(
    answer: { record: ActionRecord; expectedVersion: number },
    enqueue: EnqueueWithWakeUp,
  ): Promise<CompareAndSetResult> {
    const { queue } = enqueue;
    if (!(queue instanceof PostgresJobQueue) || !storeOnDatabase(queue, this.ctx.database)) return super.compareAndSetWithEnqueue(answer, enqueue);
    const { stored, expected } = prepareSet(answer);
    const notify = notificationOn(this.ctx.database, enqueue.answered);
    const written = await queue.enqueueAfterWrite(enqueue.options, enqueue.wake, enqueue.outbox, answerWrite(this.ctx.tables, stored, expected, { lockJob: false, notify }));
    if (written === undefined) return super.compareAndSetWithEnqueue(answer, enqueue);
    if (written) return { ok: true, record: stored, signalled: notify !== undefined };
    return { ok: false, current: await this.get({ scopeId: stored.scopeId, actionId: stored.id }) };
  }

  /** Internal to this package: whether one statement can reach this store's tables and `store`'s. */
  sharesDatabaseWith(store: PostgresJobStore | PostgresJournalStore): boolean {
    return storeOnDatabase(store, this.ctx.database);
  }

  async get(query: { scopeId: string; actionId: string }): Promise<ActionRecord | undefined> {
    const sql = await this.ctx.sql();
    const { rows } = await sql.query<{ id: string; record: string }>(
      `SELECT id, record::text AS record FROM ${this.ctx.tables.actions} WHERE id = $1 AND scope_id = $2`,
      [query.actionId, query.scopeId],
    );
    return rows[0] ? load(rows[0]) : undefined;
  }

  async getByTokenHash(query: { scopeId: string; tokenHash: string }): Promise<ActionRecord | undefined> {
    const sql = await this.ctx.sql();
    const { rows } = await sql.query<{ id: string; record: string }>(
      `SELECT id, record::text AS record FROM ${this.ctx.tables.actions} WHERE token_hash = $1 AND scope_id = $2`,
      [query.tokenHash, query.scopeId],
    );
    return rows[0] ? load(rows[0]) : undefined;
  }

  async compareAndSet(update: { record: ActionRecord; expectedVersion: number }): Promise<CompareAndSetResult> {
    const { stored, expected } = prepareSet(update);
    const sql = await this.ctx.sql();
    let updated: number;
    try {
      const result = await sql.query(setSql(this.ctx.tables, 1), setParams(stored, expected), { prepare: true });
      updated = result.rowCount;
    } catch (error) {
      if (sqlState(error) === '23505') throw new InvalidArgumentError('record.tokenHash', 'already used by another action', error);
      throw mapValueError(error, 'record');
    }
    if (updated === 1) return { ok: true, record: stored };
    return { ok: false, current: await this.get({ scopeId: stored.scopeId, actionId: stored.id }) };
  }

  async listByJob(query: { scopeId: string; jobId: string }): Promise<ActionRecord[]> {
    return this.select(`scope_id = $1 AND job_id = $2 ORDER BY created_at, id`, [query.scopeId, query.jobId]);
  }

  async listPending(query: { scopeId: string; limit?: number }): Promise<ActionRecord[]> {
    const limit = limitOf(query.limit, DEFAULT_LIMIT);
    return this.select(`scope_id = $1 AND status = 'pending' ORDER BY created_at, id LIMIT $2`, [query.scopeId, limit]);
  }

  async listExpired(query: { now: number; scopeId?: string; limit?: number }): Promise<ActionRecord[]> {
    const limit = limitOf(query.limit, DEFAULT_LIMIT);
    if (!Number.isFinite(query.now)) throw new InvalidArgumentError('now', 'must be epoch milliseconds');
    return this.select(
      `status = 'pending' AND expires_at <= ${msToTs('$1')} AND ($2::text IS NULL OR scope_id = $2) ORDER BY expires_at, id LIMIT $3`,
      [Math.floor(query.now), query.scopeId ?? null, limit],
    );
  }

  private async select(where: string, params: unknown[]): Promise<ActionRecord[]> {
    const sql = await this.ctx.sql();
    const { rows } = await sql.query<{ id: string; record: string }>(`SELECT id, record::text AS record FROM ${this.ctx.tables.actions} WHERE ${where}`, params, { prepare: true });
    return rows.map(load);
  }
}

/** Validates a compare-and-set (`InvalidArgumentError`) and builds the stored record, `expectedVersion + 1`. */
function prepareSet(update: { record: ActionRecord; expectedVersion: number }): { stored: ActionRecord; expected: number } {
  const next = validateInput(ActionRecordSchema, update.record, 'record');
  const expected = update.expectedVersion;
  if (!Number.isInteger(expected) || expected < 1) throw new InvalidArgumentError('expectedVersion', 'must be a positive integer');
  return { stored: { ...next, version: expected + 1 }, expected };
}

/** The compare-and-set UPDATE of an action, its parameters (`setParams`) from `$first`, with `extra` conditions. */
function setSql(t: Tables, first: number, extra = ''): string {
  const p = (i: number) => `$${first + i}`;
  return `UPDATE ${t.actions}
     SET status = ${p(2)}, token_hash = ${p(3)}, version = ${p(4)}::int8 + 1, created_at = ${msToTs(p(5))}, expires_at = ${msToTs(p(6))}, record = ${p(7)}::jsonb
   WHERE id = ${p(0)} AND scope_id = ${p(1)} AND version = ${p(4)}::int8${extra}`;
}

/**
 * An answer's compare-and-set as CTE `a`, for another store's statement to write with it. With
 * `lockJob`, CTE `lk` first locks the action and the job (`$1` scope, `$2` id, `$3` expected
 * version of the job's update) at the versions expected, and the answer is written only then.
 * With `notify`, the answer's row sends that notification (at commit, and only if it was written).
 */
function answerWrite(t: Tables, stored: ActionRecord, expected: number, options: { lockJob: boolean; notify?: { channel: string; payload: string } | undefined }): PriorWrite {
  const params = setParams(stored, expected);
  const { notify } = options;
  if (notify) params.push(notify.channel, notify.payload);
  return {
    ctes: (first) => {
      const p = (i: number) => `$${first + i}`;
      const lock = `lk AS (
          SELECT 1 FROM ${t.actions} AS la, ${t.jobs} AS lj
           WHERE la.id = ${p(0)} AND la.scope_id = ${p(1)} AND la.version = ${p(4)}::int8 AND lj.scope_id = $1 AND lj.id = $2 AND lj.version = $3
           FOR UPDATE
        ), `;
      const returning = notify ? `pg_notify(${p(8)}::text, ${p(9)}::text)` : '1';
      return `${options.lockJob ? lock : ''}a AS (${setSql(t, first, options.lockJob ? ' AND EXISTS (SELECT 1 FROM lk)' : '')} RETURNING ${returning})`;
    },
    key: `answer:${options.lockJob ? 'lock' : ''}:${notify ? 'notify' : ''}`,
    gate: 'a',
    params,
    argument: 'record',
    mapError: (error) => (sqlState(error) === '23505' ? new InvalidArgumentError('record.tokenHash', 'already used by another action', error) : undefined),
  };
}

/**
 * The action by its token hash (`$1`) and scope (`$2`) with its job; `withReads` adds the job's
 * journal head, entries (`[seq, record]` JSON), deferred-events flag and actions (`[id, record]`
 * JSON, as `listByJob` orders them) when the job waits and the action is pending with at most one
 * approval to go (else those columns are null).
 */
function byTokenSql(t: Tables): { plain: string; withReads: string } {
  const base = `FROM ${t.actions} AS a
         LEFT JOIN ${t.jobs} AS j ON j.scope_id = a.scope_id AND j.id = a.job_id`;
  const columns = `SELECT a.id, a.record::text AS record, j.scope_id AS job_scope_id, j.id AS job_id, j.record::text AS job_record`;
  const where = `WHERE a.token_hash = $1 AND a.scope_id = $2`;
  const when = `j.status = 'waiting_for_action' AND a.status = 'pending'
              AND (a.record->>'requiredApprovals')::int <= jsonb_array_length(a.record->'approvals') + 1`;
  return {
    plain: `${columns} ${base} ${where}`,
    withReads: `${columns}, ${RESUME_READS_COLUMNS}
         ${base}
         ${resumeReadsJoin(t, 'j', when)}
        ${where}`,
  };
}

/** `$1` id, `$2` scope id, `$3` status, `$4` token hash, `$5` expected version, `$6` created at, `$7` expires at, `$8` the record. */
function setParams(stored: ActionRecord, expected: number): unknown[] {
  return [stored.id, stored.scopeId, stored.status, stored.tokenHash, expected, stored.createdAt, stored.expiresAt, jsonParam(stored)];
}

function load(row: { id: string; record: string }): ActionRecord {
  return parseActionRecord(parseJsonText(row.record), row.id);
}
