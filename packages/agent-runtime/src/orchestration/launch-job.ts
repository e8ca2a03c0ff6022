import { InvalidArgumentError } from '@baton/llm-client';
import type { JobRecord } from '../jobs/job-record.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { RuntimeKernel } from '../kernel/runtime-kernel.js';

/** A job to create and run on a kernel, with what `ExecutionRequest` cannot say (its parent, a seeded journal). */
export interface PreparedJobSpec extends Omit<JobSpec, 'metadata'> {
  /** A workflow registered with the kernel, or `agent`. */
  workflow: string;
  agent?: string | undefined;
  timeoutSeconds?: number | undefined;
  metadata?: JobSpec['metadata'];
}

export interface LaunchOptions {
  /** Runs after the job is created and before it starts (e.g. writes its journal). */
  prepare?: ((job: JobRecord) => Promise<void>) | undefined;
  /** Why the job was prepared, kept in its state history. */
  reason: string;
}

/**
 * Creates a job and runs it on `kernel` with only the kernel's public API.
 *
 * `RuntimeKernel.execute` does not let a journal be written before the job's first run, so the
 * job is created through the kernel's job manager, prepared, marked as
 * ready (`running` → `waiting_for_action`, reason "prepared: …", with no pending action), and
 * handed to `kernel.resumeJob`, which runs it from its journal. Idempotent by the spec's
 * `idempotencyKey`: an existing job is returned, and started if it never was.
 */
export async function launchPreparedJob(kernel: RuntimeKernel, spec: PreparedJobSpec, options: LaunchOptions): Promise<{ job: JobRecord; created: boolean }> {
  if (typeof spec.workflow !== 'string' || spec.workflow.length === 0) throw new InvalidArgumentError('workflow', 'must name a workflow');
  const { workflow, agent, timeoutSeconds, metadata, ...rest } = spec;
  const meta = { ...(metadata ?? {}), workflow, ...(agent ? { agent } : {}), ...(timeoutSeconds ? { timeoutSeconds } : {}) };
  const { job, created } = await kernel.jobs.create({ ...rest, metadata: meta });
  if (created && options.prepare) await options.prepare(job);
  await ensureStarted(kernel, job, options.reason);
  return { job, created };
}

/** Starts a prepared job that never ran (queued, or marked ready without a pending action). */
export async function ensureStarted(kernel: RuntimeKernel, job: JobRecord, reason: string): Promise<void> {
  const ref = { jobId: job.id, scopeId: job.scopeId };
  const current = await kernel.getJob(job.id, job.scopeId);
  if (!current) return;
  if (current.status === 'queued') {
    await kernel.jobs.start({ ...ref, reason: `prepared: ${reason}` });
    await kernel.jobs.markWaiting({ ...ref, reason: 'ready to run' });
  } else if (current.status === 'waiting_for_action') {
    const actions = await kernel.actions.listByJob(ref);
    if (actions.some((a) => a.status === 'pending')) return;
  } else {
    return;
  }
  await kernel.resumeJob(job.id, job.scopeId);
}
