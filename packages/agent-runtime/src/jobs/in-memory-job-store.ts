import { InvalidArgumentError } from '@baton/llm-client';
import { JobAlreadyExistsError, JobNotFoundError } from '../errors/job-errors.js';
import { ConcurrentModificationError } from '../errors/store-errors.js';
import {
  JOB_STORE_DEFAULT_PAGE_SIZE,
  JOB_STORE_MAX_PAGE_SIZE,
  JobStore,
  type CreateJobResult,
  type JobPage,
  type ListJobsOptions,
} from '../ports/job-store.js';
import { compareJobPositions, decodeJobCursor, encodeJobCursor, type JobCursorPosition } from './job-cursor.js';
import { fastSafeParse } from './fast-check.js';
import { JobRecordSchema, parseJobRecord, type JobRecord, type JobRef } from './job-record.js';
import { toFrozenJson } from './json-value.js';

const IMMUTABLE_FIELDS = ['principalId', 'createdAt', 'idempotencyKey'] as const;

/**
 * `JobStore` in process memory, for tests and single-process use. Writes are validated and
 * stored as frozen copies, so reads hand out the stored record itself without a clone and no
 * caller can change stored state. Only records this store wrote are trusted as they are;
 * anything else in it (see `plantRawForTesting`) is parsed on load.
 */
export class InMemoryJobStore extends JobStore {
  readonly #rows = new Map<string, unknown>();
  /** Rows put in by `plantRawForTesting`: the only ones not written (and validated) by this store. */
  readonly #planted = new Set<unknown>();
  /** Per scope, every job's position, sorted by `createdAt` then `id`. */
  readonly #order = new Map<string, JobCursorPosition[]>();
  readonly #byIdempotencyKey = new Map<string, string>();

  override async create(job: JobRecord): Promise<CreateJobResult> {
    const record = this.#check(job);
    if (record.version !== 1) throw new InvalidArgumentError('job.version', 'a new job has version 1');
    if (record.idempotencyKey !== undefined) {
      const existingId = this.#byIdempotencyKey.get(keyOf(record.scopeId, record.idempotencyKey));
      if (existingId !== undefined) {
        const existing = this.#load(record.scopeId, existingId);
        if (existing) return { job: existing, created: false };
      }
    }
    const key = keyOf(record.scopeId, record.id);
    if (this.#rows.has(key)) throw new JobAlreadyExistsError(record.id);
    this.#store(key, record);
    insertSorted(this.#scopeOrder(record.scopeId), { createdAt: record.createdAt, id: record.id });
    if (record.idempotencyKey !== undefined) this.#byIdempotencyKey.set(keyOf(record.scopeId, record.idempotencyKey), record.id);
    return { job: record, created: true };
  }

  override async get(ref: JobRef): Promise<JobRecord | undefined> {
    return this.#load(ref.scopeId, ref.jobId);
  }

  override async update(job: JobRecord): Promise<JobRecord> {
    if (typeof job !== 'object' || job === null) throw new InvalidArgumentError('job', 'expected a job record');
    const current = this.#load(job.scopeId, job.id);
    if (!current) throw new JobNotFoundError(job.id, job.scopeId);
    if (current.version !== job.version) {
      throw new ConcurrentModificationError({ recordType: 'job', recordId: job.id, expectedVersion: job.version, actualVersion: current.version });
    }
    for (const field of IMMUTABLE_FIELDS) {
      if (job[field] !== current[field]) throw new InvalidArgumentError(`job.${field}`, 'cannot change after create');
    }
    const record = this.#check({ ...job, version: current.version + 1 }, current);
    this.#store(keyOf(record.scopeId, record.id), record);
    return record;
  }

  override async list(options: ListJobsOptions): Promise<JobPage> {
    const limit = options.limit ?? JOB_STORE_DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > JOB_STORE_MAX_PAGE_SIZE) {
      throw new InvalidArgumentError('limit', `must be an integer from 1 to ${JOB_STORE_MAX_PAGE_SIZE}`);
    }
    if (typeof options.scopeId !== 'string' || options.scopeId === '') throw new InvalidArgumentError('scopeId', 'required');
    const order = options.order ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw new InvalidArgumentError('order', "must be 'asc' or 'desc'");
    const after = options.cursor !== undefined ? decodeJobCursor(options.cursor) : undefined;
    const statuses = options.status ? new Set(options.status) : undefined;
    const positions = this.#order.get(options.scopeId) ?? [];
    const step = order === 'asc' ? 1 : -1;
    let i = order === 'asc' ? 0 : positions.length - 1;
    if (after) {
      const at = lowerBound(positions, after); // first position ≥ after
      i = order === 'asc' ? (positions[at] && compareJobPositions(positions[at], after) === 0 ? at + 1 : at) : at - 1;
    }
    const jobs: JobRecord[] = [];
    let more = false;
    for (; i >= 0 && i < positions.length; i += step) {
      const position = positions[i] as JobCursorPosition;
      const job = this.#load(options.scopeId, position.id);
      if (!job) continue;
      if (options.sessionId !== undefined && job.sessionId !== options.sessionId) continue;
      if (options.parentJobId !== undefined && job.parentJobId !== options.parentJobId) continue;
      if (statuses && !statuses.has(job.status)) continue;
      if (jobs.length === limit) {
        more = true;
        break;
      }
      jobs.push(job);
    }
    const last = jobs[jobs.length - 1];
    return more && last ? { jobs, nextCursor: encodeJobCursor({ createdAt: last.createdAt, id: last.id }) } : { jobs };
  }

  override async findByIdempotencyKey(options: { scopeId: string; idempotencyKey: string }): Promise<JobRecord | undefined> {
    const id = this.#byIdempotencyKey.get(keyOf(options.scopeId, options.idempotencyKey));
    return id === undefined ? undefined : this.#load(options.scopeId, id);
  }

  /**
   * Test hook: stores `raw` as the job's record without validation, as a damaged database row
   * would be, so that tests can check that loading it fails with `CorruptRecordError`.
   */
  plantRawForTesting(options: JobRef & { raw: unknown }): void {
    const key = keyOf(options.scopeId, options.jobId);
    if (!this.#rows.has(key)) {
      const createdAt = (options.raw as { createdAt?: unknown } | null)?.createdAt;
      insertSorted(this.#scopeOrder(options.scopeId), { createdAt: typeof createdAt === 'number' ? createdAt : 0, id: options.jobId });
    }
    this.#planted.add(options.raw);
    this.#rows.set(key, options.raw);
  }

  /**
   * Validates a record and returns a frozen copy. JSON payloads identical to the current
   * record's (an update that leaves `input` alone) are shared, not copied again.
   */
  #check(job: unknown, current?: JobRecord): JobRecord {
    const parsed = fastSafeParse(JobRecordSchema, job);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidArgumentError(`job${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, issue?.message ?? 'invalid job record', parsed.error);
    }
    const { input, result, metadata, ...envelope } = parsed.data;
    const record: Record<string, unknown> = { ...(toFrozenJson(envelope, 'job') as object) };
    record.input = current && input === current.input ? input : toFrozenJson(input, 'job.input');
    record.metadata = current && metadata === current.metadata ? metadata : toFrozenJson(metadata, 'job.metadata');
    if (result !== undefined) record.result = current && result === current.result ? result : toFrozenJson(result, 'job.result');
    return Object.freeze(record) as unknown as JobRecord;
  }

  #store(key: string, record: JobRecord): void {
    this.#rows.set(key, record);
  }

  #load(scopeId: string, jobId: string): JobRecord | undefined {
    const row = this.#rows.get(keyOf(scopeId, jobId));
    if (row === undefined) return undefined;
    if (this.#planted.size === 0 || !this.#planted.has(row)) return row as JobRecord;
    const job = parseJobRecord(row, { scopeId, jobId });
    if (job.scopeId !== scopeId || job.id !== jobId) return undefined;
    return job;
  }

  #scopeOrder(scopeId: string): JobCursorPosition[] {
    let positions = this.#order.get(scopeId);
    if (!positions) this.#order.set(scopeId, (positions = []));
    return positions;
  }
}

function keyOf(scopeId: string, id: string): string {
  return `${scopeId}\u0000${id}`;
}

/** Index of the first position ≥ `target`. */
function lowerBound(positions: readonly JobCursorPosition[], target: JobCursorPosition): number {
  let lo = 0;
  let hi = positions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareJobPositions(positions[mid] as JobCursorPosition, target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(positions: JobCursorPosition[], position: JobCursorPosition): void {
  const last = positions[positions.length - 1];
  if (!last || compareJobPositions(last, position) <= 0) positions.push(position);
  else positions.splice(lowerBound(positions, position), 0, position);
}
