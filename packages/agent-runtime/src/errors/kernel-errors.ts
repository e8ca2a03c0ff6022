import { BatonError } from '@baton/llm-client';

/** A session already has an active job and its strategy is `reject`. */
export class SessionBusyError extends BatonError {
  override readonly name = 'SessionBusyError';
  readonly code = 'session_busy';
  readonly sessionId: string;
  readonly activeJobId: string;
  constructor(sessionId: string, activeJobId: string) {
    super({ message: `Session '${sessionId}' already has an active job (${activeJobId})`, retryable: true });
    this.sessionId = sessionId;
    this.activeJobId = activeJobId;
  }
}

/** A job names a workflow (or agent) that this kernel does not know. */
export class UnknownWorkflowError extends BatonError {
  override readonly name = 'UnknownWorkflowError';
  readonly code = 'unknown_workflow';
  readonly workflow: string;
  readonly jobId: string | undefined;
  constructor(workflow: string, jobId?: string) {
    super({ message: `No workflow or agent named '${workflow}' is registered with this kernel${jobId ? ` (job ${jobId})` : ''}`, retryable: false });
    this.workflow = workflow;
    this.jobId = jobId;
  }
}

/**
 * Re-running a job asked for a different step than its journal holds at that position: the
 * code changed, or it is not deterministic between steps. Names the step and both sides.
 */
export class ReplayDivergenceError extends BatonError {
  override readonly name = 'ReplayDivergenceError';
  readonly code = 'replay_divergence';
  readonly jobId: string;
  readonly stepId: string;
  readonly recorded: string;
  readonly requested: string;
  constructor(jobId: string, stepId: string, recorded: string, requested: string) {
    super({
      message: `Job ${jobId} diverged from its journal at step ${stepId}: the journal holds ${recorded}, the code asked for ${requested}`,
      retryable: false,
    });
    this.jobId = jobId;
    this.stepId = stepId;
    this.recorded = recorded;
    this.requested = requested;
  }
}

/** A step returned something that cannot be journaled as JSON. */
export class StepOutputError extends BatonError {
  override readonly name = 'StepOutputError';
  readonly code = 'step_output_not_json';
  readonly jobId: string;
  readonly stepId: string;
  constructor(jobId: string, stepId: string, detail: string) {
    super({ message: `Step ${stepId} of job ${jobId} returned a value that is not JSON: ${detail}`, retryable: false });
    this.jobId = jobId;
    this.stepId = stepId;
  }
}

/** `result()` of a job that ended without completing. `status` says how it ended. */
export class JobEndedError extends BatonError {
  override readonly name = 'JobEndedError';
  readonly code: string;
  readonly jobId: string;
  readonly status: 'failed' | 'cancelled' | 'interrupted' | 'dead_lettered';
  readonly errorCode: string | undefined;
  constructor(jobId: string, status: 'failed' | 'cancelled' | 'interrupted' | 'dead_lettered', message: string, errorCode?: string, cause?: unknown) {
    super({ message: `Job ${jobId} ${status}: ${message}`, retryable: false, cause });
    this.code = `job_${status}`;
    this.jobId = jobId;
    this.status = status;
    this.errorCode = errorCode;
  }
}
