import type { JobRecord, JobRef } from '../jobs/job-record.js';
import type { JobStatus } from '../jobs/job-status.js';
import type { RuntimeEvent } from '../events/runtime-event.js';
import { publishOutbox, type EventOutbox } from './event-bus.js';

/** The outcome of `JobStore.create`: the stored job and whether this call created it. */
export interface CreateJobResult {
  readonly job: JobRecord;
  /** `false` when a job with the same scope and idempotency key already existed: `job` is that one. */
  readonly created: boolean;
}

/** Filters and paging for `JobStore.list`. Every list is within one scope. */
export interface ListJobsOptions {
  readonly scopeId: string;
  readonly sessionId?: string | undefined;
  /** Any of these statuses. */
  readonly status?: readonly JobStatus[] | undefined;
  readonly parentJobId?: string | undefined;
  /** Page size, 1…1000, default 50. */
  readonly limit?: number | undefined;
  /** `nextCursor` of the previous page. Opaque; only valid with the same filters and order. */
  readonly cursor?: string | undefined;
  /** By `createdAt` then `id`; default `asc` (oldest first). */
  readonly order?: 'asc' | 'desc' | undefined;
}

export interface JobPage {
  readonly jobs: readonly JobRecord[];
  /** Present when more jobs may follow. */
  readonly nextCursor?: string | undefined;
}

export const JOB_STORE_DEFAULT_PAGE_SIZE = 50;
export const JOB_STORE_MAX_PAGE_SIZE = 1000;

/**
 * Where job records live. Every method is scoped: a job of another scope behaves exactly as a
 * job that does not exist. Records returned are immutable snapshots; every loaded record is
 * validated (`CorruptRecordError` when it does not parse or has an unknown schema version).
 *
 * An abstract class rather than an interface so that methods added later can ship with a
 * default implementation and existing stores keep working.
 */
export abstract class JobStore {
  /**
   * Stores a new job (`version` 1). Idempotent by scope + `idempotencyKey`: when a job with
   * the same key exists in the scope, returns it with `created: false` and writes nothing.
   * A different job with the same id → `JobAlreadyExistsError`; an invalid record →
   * `InvalidArgumentError`.
   */
  abstract create(job: JobRecord): Promise<CreateJobResult>;

  /** The job, or `undefined` when it does not exist in this scope. */
  abstract get(ref: JobRef): Promise<JobRecord | undefined>;

  /**
   * Compare-and-set: replaces the stored job when its version is still `job.version` and
   * returns the new record with `version + 1`. Lost race → `ConcurrentModificationError`;
   * unknown job (or other scope) → `JobNotFoundError`; changing `scopeId`, `principalId`,
   * `createdAt` or `idempotencyKey` → `InvalidArgumentError`.
   */
  abstract update(job: JobRecord): Promise<JobRecord>;

  /**
   * `create`, with events published only when this call created the job (`job.created`): a
   * store that shares transactions with the bus writes both in one; the default creates, then
   * publishes.
   */
  async createWithEvents(job: JobRecord, outbox: EventOutbox): Promise<CreateJobResult & { events: RuntimeEvent[] }> {
    const result = await this.create(job);
    return { ...result, events: result.created ? await publishOutbox(outbox) : [] };
  }

  /**
   * `update`, with events published only when the write succeeded (a status change's
   * `job.*` event): a store that shares transactions with the bus writes both in one; the
   * default updates, then publishes.
   */
  async updateWithEvents(job: JobRecord, outbox: EventOutbox): Promise<{ job: JobRecord; events: RuntimeEvent[] }> {
    const saved = await this.update(job);
    return { job: saved, events: await publishOutbox(outbox) };
  }

  /** One page of the scope's jobs matching the filters, in a stable order (`createdAt`, then `id`). */
  abstract list(options: ListJobsOptions): Promise<JobPage>;

  /** The job by its idempotency key in the scope. The default pages through `list`; stores override it with an index. */
  async findByIdempotencyKey(options: { scopeId: string; idempotencyKey: string }): Promise<JobRecord | undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ scopeId: options.scopeId, cursor, limit: JOB_STORE_MAX_PAGE_SIZE });
      const found = page.jobs.find((j) => j.idempotencyKey === options.idempotencyKey);
      if (found) return found;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return undefined;
  }
}
