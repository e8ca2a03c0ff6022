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
  type CreateJobResult,
  type JobPage,
  type JobRecord,
  type JobRef,
  type ListJobsOptions,
} from '@baton/agent-runtime';
import type { PostgresConnectionOptions } from '../database.js';
import type { MigrationResult } from '../migrations/migrate.js';
import { msToTs } from '../sql/tables.js';
import { jsonParam, limitOf, mapValueError, parseJsonText } from '../sql/values.js';
import { validateInput } from '../sql/validate-input.js';
import { StoreContext } from '../store-context.js';
import { decodeJobCursor, encodeJobCursor } from './job-cursor.js';

type Row = { scope_id: string; id: string; record: string };

/**
 * `JobStore` on Postgres or PGlite. `create` is one `INSERT … ON CONFLICT DO NOTHING` (the
 * idempotency key is a unique index per scope, so concurrent creates with one key make one job);
 * `update` is one conditional UPDATE on the stored version and the fields fixed at create. Lists
 * page by keyset on (`created_at`, `id`), served by indexes per scope, session, status and parent.
 */
export class PostgresJobStore extends JobStore {
  private readonly ctx: StoreContext;

  constructor(options: PostgresConnectionOptions) {
    super();
    this.ctx = new StoreContext(options);
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
    const record = validateInput(JobRecordSchema, job, 'job');
    if (record.version !== 1) throw new InvalidArgumentError('job.version', 'a new job has version 1');
    const t = this.ctx.tables;
    const sql = await this.ctx.sql();
    let inserted: number;
    try {
      const result = await sql.query(
        `INSERT INTO ${t.jobs} (scope_id, id, session_id, parent_job_id, idempotency_key, status, priority, version, created_at, updated_at, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, ${msToTs('$8')}, ${msToTs('$9')}, $10::jsonb)
         ON CONFLICT DO NOTHING`,
        [
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
        ],
        { prepare: true },
      );
      inserted = result.rowCount;
    } catch (error) {
      throw mapValueError(error, 'job');
    }
    if (inserted === 1) return { job: record, created: true };
    if (record.idempotencyKey !== undefined) {
      const existing = await this.findByIdempotencyKey({ scopeId: record.scopeId, idempotencyKey: record.idempotencyKey });
      if (existing) return { job: existing, created: false };
    }
    throw new JobAlreadyExistsError(record.id);
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
    if (typeof job !== 'object' || job === null) throw new InvalidArgumentError('job', 'expected a job record');
    const expected = job.version;
    const record = validateInput(JobRecordSchema, { ...job, version: (Number.isInteger(expected) ? expected : 0) + 1 }, 'job');
    const sql = await this.ctx.sql();
    let updated: number;
    try {
      const result = await sql.query(
        `UPDATE ${this.ctx.tables.jobs}
            SET session_id = $4, parent_job_id = $5, status = $6, priority = $7, version = $3 + 1, updated_at = ${msToTs('$8')}, record = $9::jsonb
          WHERE scope_id = $1 AND id = $2 AND version = $3
            AND record->>'principalId' = $10 AND created_at = ${msToTs('$11')} AND idempotency_key IS NOT DISTINCT FROM $12`,
        [
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
        ],
        { prepare: true },
      );
      updated = result.rowCount;
    } catch (error) {
      throw mapValueError(error, 'job');
    }
    if (updated === 1) return record;
    // Why nothing was written: read the job as it is now.
    const current = await this.get({ scopeId: record.scopeId, jobId: record.id });
    if (!current) throw new JobNotFoundError(record.id, record.scopeId);
    if (current.version !== expected) {
      throw new ConcurrentModificationError({ recordType: 'job', recordId: record.id, expectedVersion: expected, actualVersion: current.version });
    }
    for (const field of ['principalId', 'createdAt', 'idempotencyKey'] as const) {
      if (job[field] !== current[field]) throw new InvalidArgumentError(`job.${field}`, 'cannot change after create');
    }
    // The row changed between the two statements: another writer won.
    throw new ConcurrentModificationError({ recordType: 'job', recordId: record.id, expectedVersion: expected, actualVersion: current.version });
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

  override async findByIdempotencyKey(options: { scopeId: string; idempotencyKey: string }): Promise<JobRecord | undefined> {
    const sql = await this.ctx.sql();
    const { rows } = await sql.query<Row>(
      `SELECT scope_id, id, record::text AS record FROM ${this.ctx.tables.jobs} WHERE scope_id = $1 AND idempotency_key = $2`,
      [options.scopeId, options.idempotencyKey],
    );
    return rows[0] ? load(rows[0]) : undefined;
  }
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
