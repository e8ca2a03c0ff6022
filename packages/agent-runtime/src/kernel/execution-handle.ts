import type { RuntimeEvent } from '../events/runtime-event.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { JsonValue } from '../jobs/json-value.js';

/** A completed job's outcome. */
export interface JobResult {
  jobId: string;
  output: JsonValue | undefined;
  job: JobRecord;
}

/** What the kernel provides to a handle (kept small so handles are cheap). */
export interface HandleHost {
  events(jobId: string, scopeId: string, options: { fromSeq?: number | undefined; signal?: AbortSignal | undefined; untilPaused?: boolean | undefined }): AsyncIterable<RuntimeEvent>;
  result(jobId: string, scopeId: string): Promise<JobResult>;
  settled(jobId: string, scopeId: string): Promise<JobRecord>;
  cancel(jobId: string, scopeId: string, reason?: string): Promise<JobRecord | undefined>;
  getJob(jobId: string, scopeId: string): Promise<JobRecord | undefined>;
}

/** A job started by `RuntimeKernel.execute`. */
export class ExecutionHandle {
  readonly jobId: string;
  readonly scopeId: string;
  /** False when the request's idempotency key matched an existing job (this handle follows that one). */
  readonly created: boolean;

  constructor(
    private readonly host: HandleHost,
    readonly job: JobRecord,
    created: boolean,
  ) {
    this.jobId = job.id;
    this.scopeId = job.scopeId;
    this.created = created;
  }

  /**
   * The job's events from `fromSeq` (default 1: all of them): retained ones first, then live
   * ones, with no gap or duplicate; ends after the job's terminal event (or, with
   * `untilPaused`, also when it starts waiting for an action).
   */
  events(options: { fromSeq?: number; signal?: AbortSignal; untilPaused?: boolean } = {}): AsyncIterable<RuntimeEvent> {
    return this.host.events(this.jobId, this.scopeId, options);
  }

  /** Resolves when the job completes; rejects with `JobEndedError` when it fails, is cancelled or interrupted. */
  result(): Promise<JobResult> {
    return this.host.result(this.jobId, this.scopeId);
  }

  /** Resolves when the job stops running: waiting for an action, or ended. */
  settled(): Promise<JobRecord> {
    return this.host.settled(this.jobId, this.scopeId);
  }

  /** Cancels the job; `result()` rejects at once. */
  cancel(reason?: string): Promise<JobRecord | undefined> {
    return this.host.cancel(this.jobId, this.scopeId, reason);
  }

  status(): Promise<JobRecord | undefined> {
    return this.host.getJob(this.jobId, this.scopeId);
  }
}
