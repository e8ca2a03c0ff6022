import { BatonError } from '@baton/llm-client';

/** The kinds of stored record the runtime's stores load and validate. */
export type StoredRecordType =
  | 'job'
  | 'journal_entry'
  | 'shared_data'
  | 'shared_log'
  | 'deferred_event'
  | 'event'
  | 'queue_entry';

/**
 * A stored record does not parse: corrupt, truncated, or written with a schema version this
 * code does not know. Never retryable: reading it again gives the same bytes. `issue` is the
 * first validation problem (path and message), `schemaVersion` what the record claimed.
 */
export class CorruptRecordError extends BatonError {
  override readonly name = 'CorruptRecordError';
  readonly code = 'corrupt_record';
  readonly recordType: StoredRecordType;
  /** The id that locates the record: a job id, `${jobId}:${seq}`, an event id. */
  readonly recordId: string;
  readonly jobId: string | undefined;
  readonly scopeId: string | undefined;
  readonly issue: string;
  readonly schemaVersion: unknown;
  constructor(options: {
    recordType: StoredRecordType;
    recordId: string;
    jobId?: string | undefined;
    scopeId?: string | undefined;
    issue: string;
    schemaVersion?: unknown;
    cause?: unknown;
  }) {
    const where = options.jobId !== undefined && options.jobId !== options.recordId ? ` of job '${options.jobId}'` : '';
    super({
      message: `Corrupt ${options.recordType.replace('_', ' ')} record '${options.recordId}'${where}: ${options.issue}`,
      cause: options.cause,
    });
    this.recordType = options.recordType;
    this.recordId = options.recordId;
    this.jobId = options.jobId;
    this.scopeId = options.scopeId;
    this.issue = options.issue;
    this.schemaVersion = options.schemaVersion;
  }
}

/**
 * A compare-and-set update lost: the record's version is no longer the one the caller read.
 * Retryable: read the record again, re-apply the change, and update with the new version.
 */
export class ConcurrentModificationError extends BatonError {
  override readonly name = 'ConcurrentModificationError';
  readonly code = 'concurrent_modification';
  readonly recordType: StoredRecordType;
  readonly recordId: string;
  readonly expectedVersion: number;
  readonly actualVersion: number | undefined;
  constructor(options: { recordType: StoredRecordType; recordId: string; expectedVersion: number; actualVersion?: number | undefined }) {
    super({
      message: `The ${options.recordType.replace('_', ' ')} '${options.recordId}' was modified concurrently (expected version ${options.expectedVersion}, found ${options.actualVersion ?? 'none'})`,
      retryable: true,
    });
    this.recordType = options.recordType;
    this.recordId = options.recordId;
    this.expectedVersion = options.expectedVersion;
    this.actualVersion = options.actualVersion;
  }
}

/**
 * A journal append was not for the job's next step: the seq is already taken (a duplicate,
 * e.g. a second worker wrote the step first) or lies past the end (a gap). Not retryable as is:
 * the writer must reload the journal.
 */
export class JournalConflictError extends BatonError {
  override readonly name = 'JournalConflictError';
  readonly code = 'journal_conflict';
  readonly jobId: string;
  readonly expectedSeq: number;
  readonly nextSeq: number;
  constructor(options: { jobId: string; expectedSeq: number; nextSeq: number }) {
    super({
      message: `Journal of job '${options.jobId}': cannot append seq ${options.expectedSeq}, the next seq is ${options.nextSeq}`,
    });
    this.jobId = options.jobId;
    this.expectedSeq = options.expectedSeq;
    this.nextSeq = options.nextSeq;
  }
}

/**
 * The caller's lease on a job is gone: it expired, another worker claimed the job (a higher
 * lease epoch), or the write carried a stale epoch (fencing). The caller must stop working on
 * the job; its last write was not applied.
 */
export class LeaseLostError extends BatonError {
  override readonly name = 'LeaseLostError';
  readonly code = 'lease_lost';
  readonly jobId: string;
  readonly leaseEpoch: number;
  readonly currentEpoch: number | undefined;
  readonly workerId: string | undefined;
  constructor(options: { jobId: string; leaseEpoch: number; currentEpoch?: number | undefined; workerId?: string | undefined; reason?: string }) {
    const who = options.workerId !== undefined ? ` held by worker '${options.workerId}'` : '';
    const now = options.currentEpoch !== undefined ? `; current epoch is ${options.currentEpoch}` : '';
    super({
      message: `Lease on job '${options.jobId}' at epoch ${options.leaseEpoch}${who} is lost${options.reason ? ` (${options.reason})` : ''}${now}`,
    });
    this.jobId = options.jobId;
    this.leaseEpoch = options.leaseEpoch;
    this.currentEpoch = options.currentEpoch;
    this.workerId = options.workerId;
  }
}

/**
 * An event subscriber fell behind by more than its queue holds and its overflow policy is
 * `disconnect`: it was unsubscribed. Resume from the last seq seen (`replay`/`stream` with
 * `fromSeq`) to catch up without a gap.
 */
export class SubscriberOverflowError extends BatonError {
  override readonly name = 'SubscriberOverflowError';
  readonly code = 'subscriber_overflow';
  readonly maxQueue: number;
  constructor(maxQueue: number) {
    super({ message: `Event subscriber fell more than ${maxQueue} events behind and was disconnected`, retryable: true });
    this.maxQueue = maxQueue;
  }
}
