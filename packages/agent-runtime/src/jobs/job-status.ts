import { z } from 'zod';
import { IllegalTransitionError } from '../errors/job-errors.js';

export const JOB_STATUSES = [
  'queued',
  'running',
  'waiting_for_action',
  'interrupted',
  'completed',
  'failed',
  'cancelled',
  'dead_lettered',
] as const;

/**
 * Where a job is in its life. `waiting_for_action` holds no worker (the job is its journal
 * plus a pending action); `interrupted` means a newer message of the session took over and the
 * job's partial results went to the next job; `dead_lettered` is a poison job that was claimed
 * too many times without finishing.
 */
export type JobStatus = (typeof JOB_STATUSES)[number];
export const JobStatusSchema = z.enum(JOB_STATUSES);

/**
 * Allowed transitions. Terminal states have none, except that a dead-lettered job may be
 * re-queued by an operator once its cause is fixed. `running → queued` hands a job back to the
 * queue (lease lost, graceful shutdown, retry); `waiting_for_action → queued` is a resolved
 * action re-enqueuing the job for any worker, `→ running` resuming it in place.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = Object.freeze({
  queued: ['running', 'cancelled', 'failed', 'dead_lettered'],
  running: ['waiting_for_action', 'interrupted', 'completed', 'failed', 'cancelled', 'queued', 'dead_lettered'],
  waiting_for_action: ['running', 'queued', 'interrupted', 'failed', 'cancelled'],
  interrupted: [],
  completed: [],
  failed: [],
  cancelled: [],
  dead_lettered: ['queued'],
});

const TERMINAL: ReadonlySet<JobStatus> = new Set(['interrupted', 'completed', 'failed', 'cancelled', 'dead_lettered']);

/** A job in a terminal status does nothing more (a dead-lettered one waits for an operator). */
export function isTerminalJobStatus(status: JobStatus): boolean {
  return TERMINAL.has(status);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

/** Throws `IllegalTransitionError` unless the table allows `from → to`. */
export function assertTransition(options: { jobId: string; from: JobStatus; to: JobStatus }): void {
  if (!canTransition(options.from, options.to)) throw new IllegalTransitionError(options.jobId, options.from, options.to);
}
