import { InvalidArgumentError } from '@baton/llm-client';
import {
  ConcurrentModificationError,
  CorruptRecordError,
  JOB_STORE_DEFAULT_PAGE_SIZE,
  JOB_STORE_MAX_PAGE_SIZE,
  JobAlreadyExistsError,
  JobNotFoundError,
  JobRecordSchema,
  JobStore,
  parseJobRecord,
  publishOutbox,
  type CreateJobResult,
  type EventOutbox,
  type JobPage,
  type JobRecord,
  type JobRef,
  type ListJobsOptions,
  type RuntimeEvent,
} from '@baton/agent-runtime';
import type { PostgresConnectionOptions } from '../database.js';
import { eventBatchSql } from '../events/event-batch-sql.js';
import { outboxWriterFor, registerOutboxStore, runWithEvents, type EventOutboxWriter, type PreparedEvents } from '../events/event-outbox.js';
import type { MigrationResult } from '../migrations/migrate.js';
import { StatementTexts } from '../sql/statement-texts.js';
import { msToTs, type Tables } from '../sql/tables.js';
import { hasNul, jsonParam, limitOf, mapValueError, parseJsonText } from '../sql/values.js';
import { validateInput } from '../sql/validate-input.js';
import { StoreContext } from '../store-context.js';
import { decodeJobCursor, encodeJobCursor } from './job-cursor.js';

type Row = { scope_id: string; id: string; record: string };

/** `$first` … `$first+9` (`$1` … `$10` by default): see `createParams`. */
const createSql = (t: Tables, first = 1): string => {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO ${t.jobs} (scope_id, id, session_id, parent_job_id, idempotency_key, status, priority, version, created_at, updated_at, record)
         VALUES (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, 1, ${msToTs(p(7))}, ${msToTs(p(8))}, ${p(9)}::jsonb)
         ON CONFLICT DO NOTHING`;
};

/** `$1` … `$12`: see `updateParams`. */
const updateSql = (t: Tables): string => `UPDATE ${t.jobs}
            SET session_id = $4, parent_job_id = $5, status = $6, priority = $7, version = $3 + 1, updated_at = ${msToTs('$8')}, record = $9::jsonb
          WHERE scope_id = $1 AND id = $2 AND version = $3
            AND record->>'principalId' = $10 AND created_at = ${msToTs('$11')} AND idempotency_key IS NOT DISTINCT FROM $12`;

/** The write as CTE `j` (one row when it happened), then a batch of events stored only if it did: one row per event. */
function withEvents(write: string, firstEventParam: number, t: Tables): string {
  const events = eventBatchSql(t, firstEventParam, 'j');
  return `WITH j AS (${write} RETURNING 1), ${events.ctes} ${events.select}`;
}

/**
 * `JobStore` on Postgres or PGlite. `create` is one `INSERT … ON CONFLICT DO NOTHING` (the
 * idempotency key is a unique index per scope, so concurrent creates with one key make one job);
 * `update` is one conditional UPDATE on the stored version and the fields fixed at create. Lists
 * page by keyset on (`created_at`, `id`), served by indexes per scope, session, status and parent.
 *
 * With a `PostgresEventBus` on the same database, `createWithEvents` and `updateWithEvents` store
 * the write's events in the write's statement, only when the job was created / the version
 * matched: one round trip and one commit.
 */
export class PostgresJobStore extends JobStore {
  private readonly ctx: StoreContext;
  private readonly sql: { create: string; update: string; createWithEvents: string; updateWithEvents: string };
  /** Statements written with another store's parts, built once per shape. */
  private readonly texts = new StatementTexts();

  constructor(options: PostgresConnectionOptions) {
    super();
    this.ctx = new StoreContext(options);
    const t = this.ctx.tables;
    this.sql = { create: createSql(t), update: updateSql(t), createWithEvents: withEvents(createSql(t), 11, t), updateWithEvents: withEvents(updateSql(t), 13, t) };
    registerOutboxStore(this, this.ctx.database);
  }

  setup(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  migrate(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  async close(): Promise<void> {
    await this.ctx.close();
  }

  override async create(job: JobRecord): Promise<CreateJobResult> {
    const record = prepareCreate(job);
    const sql = await this.ctx.sql();
    let inserted: number;
    try {
      inserted = (await sql.query(this.sql.create, createParams(record), { prepare: true })).rowCount;
    } catch (error) {
      throw mapValueError(error, 'job');
    }
    if (inserted === 1) return { job: record, created: true };
    return this.notCreated(record);
  }

  /**
   * With a bus on this database: one statement creates the job and, only when it did, stores the
   * events (and sends their notifications). An existing job with the idempotency key comes back
   * with `created: false` and no events. Otherwise: create, then publish.
   */
  override async createWithEvents(job: JobRecord, outbox: EventOutbox): Promise<CreateJobResult & { events: RuntimeEvent[] }> {
    const writer = outboxWriterFor(this, outbox);
    if (writer === undefined) return super.createWithEvents(job, outbox);
    const record = prepareCreate(job);
    const prepared = writer.prepare(outbox.events);
    if (prepared === undefined) return super.createWithEvents(job, outbox);
    const events = await this.writeWithEvents(writer, prepared, this.sql.createWithEvents, createParams(record), 'job');
    if (events !== undefined) return { job: record, created: true, events };
    return { ...(await this.notCreated(record)), events: [] };
  }

  override async get(ref: JobRef): Promise<JobRecord | undefined> {
    const sql = await this.ctx.sql();
    const { rows } = await sql.query<Row>(
      `SELECT scope_id, id, record::text AS record FROM ${this.ctx.tables.jobs} WHERE scope_id = $1 AND id = $2`,
      [ref.scopeId, ref.jobId],
      { prepare: true },
    );
    return rows[0] ? load(rows[0]) : undefined;
  }

  override async update(job: JobRecord): Promise<JobRecord> {
    const { record, expected } = prepareUpdate(job);
    const sql = await this.ctx.sql();
    let updated: number;
    try {
      updated = (await sql.query(this.sql.update, updateParams(record, expected), { prepare: true })).rowCount;
    } catch (error) {
      throw mapValueError(error, 'job');
    }
    if (updated === 1) return record;
    throw await this.notUpdated(job, record, expected);
  }

  /**
   * With a bus on this database: one statement makes the compare-and-set update and, only when it
   * matched, stores the events (and sends their notifications). A refused update stores none and
   * fails as `update` does. Otherwise: update, then publish.
   */
  override async updateWithEvents(job: JobRecord, outbox: EventOutbox): Promise<{ job: JobRecord; events: RuntimeEvent[] }> {
    const writer = outboxWriterFor(this, outbox);
    if (writer === undefined) return super.updateWithEvents(job, outbox);
    const { record, expected } = prepareUpdate(job);
    const prepared = writer.prepare(outbox.events);
    if (prepared === undefined) return super.updateWithEvents(job, outbox);
    const events = await this.writeWithEvents(writer, prepared, this.sql.updateWithEvents, updateParams(record, expected), 'job');
    if (events !== undefined) return { job: record, events };
    throw await this.notUpdated(job, record, expected);
  }

  /**
   * Internal to this package: the compare-and-set update as CTE `j`, another store's `gated`
   * write (CTEs reading `j`, so they happen only when the update did) and the outbox's events,
   * in one statement (`PostgresActionStore.createWithJobUpdate`: a pause's requests with the job
   * waiting for them). Fails as `update` does, having written nothing.
   */
  async updateWithGatedWrite(job: JobRecord, outbox: EventOutbox | undefined, gated: GatedWrite): Promise<{ job: JobRecord; events: RuntimeEvent[] }> {
    const { record, expected } = prepareUpdate(job);
    const params = updateParams(record, expected);
    const gatedSql = () => gated.ctes(params.length + 1);
    const writer = outboxWriterFor(this, outbox);
    const prepared = writer?.prepare(outbox!.events);
    const key = gated.key === undefined ? undefined : `gated|${gated.key}|${gated.params.length}`;
    if (writer && prepared) {
      const text = this.texts.get(key && `${key}|e`, () => {
        const events = eventBatchSql(this.ctx.tables, params.length + gated.params.length + 1, 'j');
        return `WITH j AS (${updateSql(this.ctx.tables)} RETURNING 1), ${gatedSql()}, ${events.ctes} ${events.select}`;
      });
      const stored = await this.writeWithEvents(writer, prepared, text, [...params, ...gated.params], gated.argument, gated.mapError);
      if (stored !== undefined) return { job: record, events: stored };
      throw await this.notUpdated(job, record, expected);
    }
    const sql = await this.ctx.sql();
    let updated: number;
    try {
      const text = this.texts.get(key, () => `WITH j AS (${updateSql(this.ctx.tables)} RETURNING 1), ${gatedSql()} SELECT count(*)::int AS n FROM j`);
      updated = Number((await sql.query<{ n: number }>(text, [...params, ...gated.params], { prepare: true })).rows[0]?.n ?? 0);
    } catch (error) {
      throw gated.mapError?.(error) ?? mapValueError(error, params.some(hasNul) ? 'job' : gated.argument);
    }
    if (updated !== 1) throw await this.notUpdated(job, record, expected);
    return { job: record, events: await publishOutbox(outbox) };
  }

  /**
   * Internal to this package: another store's `prior` write (CTEs before the job's), then the
   * compare-and-set update of the job only when `prior.gate` returned a row, and the outbox's
   * events only when the job was written, in one statement (`PostgresActionStore
   * .compareAndSetWithJobUpdate`: an answer with its job's resume). With `gated`, that store's
   * write follows the job's, only when it was written (a pause's requests). `undefined` when the
   * job was not written (the caller finds out why); fails on bad input having written nothing.
   */
  async updateAfterWrite(job: JobRecord, outbox: EventOutbox | undefined, prior: PriorWrite, gated?: GatedWrite): Promise<{ job: JobRecord; events: RuntimeEvent[] } | undefined> {
    const { record, expected } = prepareUpdate(job);
    const own = updateParams(record, expected);
    const params = [...own, ...prior.params];
    const gatedFirst = params.length + 1;
    // Both parts named: the text is built once for their shape.
    const key =
      prior.key !== undefined && (gated === undefined || gated.key !== undefined)
        ? `after|${prior.key}|${prior.params.length}|${gated?.key ?? ''}|${gated?.params.length ?? 0}`
        : undefined;
    const priorAndUpdate = () =>
      `${prior.ctes(own.length + 1)}, j AS (${updateSql(this.ctx.tables)} AND EXISTS (SELECT 1 FROM ${prior.gate}) RETURNING 1)${gated ? `, ${gated.ctes(gatedFirst)}` : ''}`;
    if (gated) params.push(...gated.params);
    const writer = outboxWriterFor(this, outbox);
    const prepared = writer?.prepare(outbox!.events);
    const mapError = (error: unknown) => prior.mapError?.(error) ?? gated?.mapError?.(error) ?? mapValueError(error, own.some(hasNul) ? 'job' : prior.argument);
    if (writer && prepared) {
      const text = this.texts.get(key && `${key}|e`, () => {
        const events = eventBatchSql(this.ctx.tables, params.length + 1, 'j');
        return `WITH ${priorAndUpdate()}, ${events.ctes} ${events.select}`;
      });
      const stored = await runWithEvents(() => this.ctx.sql(), writer, prepared, text, params, mapError);
      return stored === undefined ? undefined : { job: record, events: stored };
    }
    const sql = await this.ctx.sql();
    let updated: number;
    try {
      const text = this.texts.get(key, () => `WITH ${priorAndUpdate()} SELECT count(*)::int AS n FROM j`);
      updated = Number((await sql.query<{ n: number }>(text, params, { prepare: true })).rows[0]?.n ?? 0);
    } catch (error) {
      throw mapError(error);
    }
    if (updated !== 1) return undefined;
    return { job: record, events: await publishOutbox(outbox) };
  }

  /** Internal to this package: a job row read by another store's query (`scope_id`, `id`, `record` as text), parsed and checked as `get` does. */
  loadRow(row: { scope_id: string; id: string; record: string }): JobRecord {
    return load(row);
  }

  override async list(options: ListJobsOptions): Promise<JobPage> {
    const limit = limitOf(options.limit, JOB_STORE_DEFAULT_PAGE_SIZE, JOB_STORE_MAX_PAGE_SIZE);
    if (typeof options.scopeId !== 'string' || options.scopeId === '') throw new InvalidArgumentError('scopeId', 'required');
    const order = options.order ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw new InvalidArgumentError('order', "must be 'asc' or 'desc'");
    const after = options.cursor !== undefined ? decodeJobCursor(options.cursor) : undefined;
    if (options.status !== undefined && !Array.isArray(options.status)) throw new InvalidArgumentError('status', 'must be an array of statuses');
    const [cmp, dir] = order === 'asc' ? ['>', 'ASC'] : ['<', 'DESC'];
    const sql = await this.ctx.sql();
    const { rows } = await sql.query<Row>(
      `SELECT scope_id, id, record::text AS record FROM ${this.ctx.tables.jobs}
        WHERE scope_id = $1
          AND ($2::text IS NULL OR session_id = $2)
          AND ($3::text[] IS NULL OR status = ANY($3::text[]))
          AND ($4::text IS NULL OR parent_job_id = $4)
          AND ($5::int8 IS NULL OR (created_at, id) ${cmp} (${msToTs('$5')}, $6::text))
        ORDER BY created_at ${dir}, id ${dir}
        LIMIT $7`,
      [options.scopeId, options.sessionId ?? null, options.status ? [...options.status] : null, options.parentJobId ?? null, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    const jobs = rows.slice(0, limit).map(load);
    const last = jobs[jobs.length - 1];
    return rows.length > limit && last ? { jobs, nextCursor: encodeJobCursor({ createdAt: last.createdAt, id: last.id }) } : { jobs };
  }

  /**
   * Runs a `withEvents` statement (the write's `params`, then the events') in the events' job
   * order. The stored events, or `undefined` when the write did not happen.
   */
  private writeWithEvents(writer: EventOutboxWriter, prepared: PreparedEvents, text: string, params: unknown[], argument: string, mapError?: (error: unknown) => Error | undefined): Promise<RuntimeEvent[] | undefined> {
    return runWithEvents(() => this.ctx.sql(), writer, prepared, text, params, (error) => mapError?.(error) ?? mapValueError(error, params.some(hasNul) ? argument : 'event'));
  }

  /** A create that inserted nothing: the job with the same idempotency key, or `JobAlreadyExistsError`. */
  /**
   * Internal to this package: a new job's INSERT as CTE `nj` (one row when it was created), for
   * another store's statement to write after it (`PostgresJobQueue.enqueueNewJob`), with the
   * checked record.
   */
  createWrite(job: JobRecord): PriorWrite & { readonly record: JobRecord } {
    const record = prepareCreate(job);
    const t = this.ctx.tables;
    return {
      record,
      ctes: (first) => `nj AS (${createSql(t, first)} RETURNING 1)`,
      key: 'create',
      gate: 'nj',
      params: createParams(record),
      argument: 'job',
    };
  }

  /** Internal to this package: what a create that inserted nothing returns (the job with that idempotency key), or `JobAlreadyExistsError`. */
  async notCreated(record: JobRecord): Promise<CreateJobResult> {
    if (record.idempotencyKey !== undefined) {
      const existing = await this.findByIdempotencyKey({ scopeId: record.scopeId, idempotencyKey: record.idempotencyKey });
      if (existing) return { job: existing, created: false };
    }
    throw new JobAlreadyExistsError(record.id);
  }

  /** Why an update wrote nothing, read from the job as it is now. */
  private async notUpdated(job: JobRecord, record: JobRecord, expected: number): Promise<Error> {
    const current = await this.get({ scopeId: record.scopeId, jobId: record.id });
    if (!current) return new JobNotFoundError(record.id, record.scopeId);
    if (current.version !== expected) {
      return new ConcurrentModificationError({ recordType: 'job', recordId: record.id, expectedVersion: expected, actualVersion: current.version });
    }
    for (const field of ['principalId', 'createdAt', 'idempotencyKey'] as const) {
      if (job[field] !== current[field]) return new InvalidArgumentError(`job.${field}`, 'cannot change after create');
    }
    // The row changed between the two statements: another writer won.
    return new ConcurrentModificationError({ recordType: 'job', recordId: record.id, expectedVersion: expected, actualVersion: current.version });
  }

  override async findByIdempotencyKey(options: { scopeId: string; idempotencyKey: string }): Promise<JobRecord | undefined> {
    const sql = await this.ctx.sql();
    const { rows } = await sql.query<Row>(
      `SELECT scope_id, id, record::text AS record FROM ${this.ctx.tables.jobs} WHERE scope_id = $1 AND idempotency_key = $2`,
      [options.scopeId, options.idempotencyKey],
    );
    return rows[0] ? load(rows[0]) : undefined;
  }
}

/**
 * CTE `lj`: the job row locked, one row only when it is at the version and identity the job
 * update expects (`$1`–`$3`, `$10`–`$12` of `updateAfterWrite`'s update): a write gated on it is
 * followed by the job's change for sure, so a prior write and the job are both written or neither.
 */
export function lockedJobSql(t: Tables): string {
  return `lj AS (
      SELECT 1 FROM ${t.jobs} AS x WHERE x.scope_id = $1 AND x.id = $2 AND x.version = $3 AND x.record->>'principalId' = $10
         AND x.created_at = ${msToTs('$11')} AND x.idempotency_key IS NOT DISTINCT FROM $12 FOR UPDATE
    )`;
}

/** Another store's write that happens only with a job update (see `updateWithGatedWrite`). */
export interface GatedWrite {
  /** CTEs (`name AS (…)`, comma-separated) that select `FROM j`; their parameters start at `$first`. */
  ctes(first: number): string;
  /** Names the shape of `ctes` and the number of `params` (the same key, the same text): the statement is then built once. */
  readonly key?: string | undefined;
  readonly params: readonly unknown[];
  /** The argument named by a value the database refuses. */
  readonly argument: string;
  /** Maps the store's own errors (a duplicate key); `undefined` for the default mapping. */
  mapError?: ((error: unknown) => Error | undefined) | undefined;
}

/** Another store's write that gates a job update (see `updateAfterWrite`). */
export interface PriorWrite {
  /** CTEs (`name AS (…)`, comma-separated) written before the job's; their parameters start at `$first` (`$1`–`$3` are the job's scope id, id and expected version). */
  ctes(first: number): string;
  /** Names the shape of `ctes` and the number of `params` (the same key, the same text): the statement is then built once. */
  readonly key?: string | undefined;
  /** The CTE that must return a row for the job to be written. */
  readonly gate: string;
  readonly params: readonly unknown[];
  /** The argument named by a value the database refuses. */
  readonly argument: string;
  /** Maps the store's own errors (a duplicate key); `undefined` for the default mapping. */
  mapError?: ((error: unknown) => Error | undefined) | undefined;
}

/** Validates a new job (`InvalidArgumentError`). */
function prepareCreate(job: JobRecord): JobRecord {
  const record = validateInput(JobRecordSchema, job, 'job');
  if (record.version !== 1) throw new InvalidArgumentError('job.version', 'a new job has version 1');
  return record;
}

function createParams(record: JobRecord): unknown[] {
  return [
    record.scopeId,
    record.id,
    record.sessionId ?? null,
    record.parentJobId ?? null,
    record.idempotencyKey ?? null,
    record.status,
    record.priority,
    record.createdAt,
    record.updatedAt,
    jsonParam(record),
  ];
}

/** Validates an update (`InvalidArgumentError`) and builds the stored record, `version + 1`. */
function prepareUpdate(job: JobRecord): { record: JobRecord; expected: number } {
  if (typeof job !== 'object' || job === null) throw new InvalidArgumentError('job', 'expected a job record');
  const expected = job.version;
  const record = validateInput(JobRecordSchema, { ...job, version: (Number.isInteger(expected) ? expected : 0) + 1 }, 'job');
  return { record, expected };
}

function updateParams(record: JobRecord, expected: number): unknown[] {
  return [
    record.scopeId,
    record.id,
    expected,
    record.sessionId ?? null,
    record.parentJobId ?? null,
    record.status,
    record.priority,
    record.updatedAt,
    jsonParam(record),
    record.principalId,
    record.createdAt,
    record.idempotencyKey ?? null,
  ];
}

/** Parses a row; a record that names another job or scope than its row is corrupt too. */
function load(row: Row): JobRecord {
  const job = parseJobRecord(parseJsonText(row.record), { scopeId: row.scope_id, jobId: row.id });
  if (job.scopeId !== row.scope_id || job.id !== row.id) {
    throw new CorruptRecordError({
      recordType: 'job',
      recordId: row.id,
      jobId: row.id,
      scopeId: row.scope_id,
      schemaVersion: job.schemaVersion,
      issue: `stored as job '${row.id}' of scope '${row.scope_id}' but names job '${job.id}' of scope '${job.scopeId}'`,
    });
  }
  return job;
}
