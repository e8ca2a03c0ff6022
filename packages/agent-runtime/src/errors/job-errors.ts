import { BatonError } from '@baton/llm-client';
import type { JobStatus } from '../jobs/job-status.js';

/** A job status change that the transition table does not allow (e.g. completed → running). */
export class IllegalTransitionError extends BatonError {
  override readonly name = 'IllegalTransitionError';
  readonly code = 'illegal_transition';
  readonly jobId: string;
  readonly from: JobStatus;
  readonly to: JobStatus;
  constructor(jobId: string, from: JobStatus, to: JobStatus) {
    super({ message: `Job '${jobId}' cannot go from '${from}' to '${to}'` });
    this.jobId = jobId;
    this.from = from;
    this.to = to;
  }
}

/** No job with this id in the caller's scope (another scope's job is "not found" too). */
export class JobNotFoundError extends BatonError {
  override readonly name = 'JobNotFoundError';
  readonly code = 'job_not_found';
  readonly jobId: string;
  readonly scopeId: string;
  constructor(jobId: string, scopeId: string) {
    super({ message: `Job '${jobId}' not found in scope '${scopeId}'` });
    this.jobId = jobId;
    this.scopeId = scopeId;
  }
}

/** A job with this id already exists (and the create carried no matching idempotency key). */
export class JobAlreadyExistsError extends BatonError {
  override readonly name = 'JobAlreadyExistsError';
  readonly code = 'job_already_exists';
  readonly jobId: string;
  constructor(jobId: string) {
    super({ message: `Job '${jobId}' already exists` });
    this.jobId = jobId;
  }
}
