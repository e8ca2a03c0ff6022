import { AbortError, InvalidArgumentError } from '@baton/llm-client';
import { z } from 'zod';
import { BudgetSpecSchema } from '../context/execution-context.js';
import { JobEndedError } from '../errors/kernel-errors.js';
import { ChildJobFailedError, ChildJobLimitError } from '../errors/orchestration-errors.js';
import { JobPrioritySchema } from '../jobs/job-priority.js';
import type { JobRecord, JobRef } from '../jobs/job-record.js';
import { isTerminalJobStatus } from '../jobs/job-status.js';
import { JsonObjectSchema, JsonValueSchema, type JsonValue } from '../jobs/json-value.js';
import type { JobResult } from '../kernel/execution-handle.js';
import type { JobContext } from '../kernel/job-context.js';
import type { RuntimeKernel } from '../kernel/runtime-kernel.js';
import { journalUsage, remainingBudget, tighterBudget, type JobUsage } from './journal-usage.js';
import { ensureStarted, launchPreparedJob } from './launch-job.js';
import { OperatorContext } from './operator-context.js';
import { resolveOrchestrationConfig, type OrchestrationConfig, type ResolvedOrchestrationConfig } from './orchestration-config.js';
import { runConcurrently } from './run-concurrently.js';

/** A child job to run: a workflow (or agent) of the parent's kernel on an input. */
export const ChildJobRequestSchema = z.strictObject({
  /** Default `agent`. */
  workflow: z.string().min(1).max(256).optional(),
  agent: z.string().min(1).max(256).optional(),
  input: JsonValueSchema,
  /** Tightens the budgets the child inherits. */
  budgets: BudgetSpecSchema.optional(),
  priority: JobPrioritySchema.optional(),
  /** Overrides the config's `timeoutSeconds`. */
  timeoutSeconds: z.number().positive().max(30 * 86_400).optional(),
  metadata: JsonObjectSchema.optional(),
  /** The step's name in the parent's journal (default `child:<workflow>`). */
  name: z.string().min(1).max(200).optional(),
});
export type ChildJobRequest = z.input<typeof ChildJobRequestSchema>;

/** A finished child: its id, result and what its whole subtree consumed. */
export interface ChildJobResult {
  childJobId: string;
  output: JsonValue;
  usage: JobUsage;
}

export interface ChildJobsOptions {
  kernel: RuntimeKernel;
  /** The parent job's context (or an operator's, to nest the child steps under it). */
  ctx: JobContext | OperatorContext;
  config?: OrchestrationConfig;
}

/**
 * Spawns child jobs of the running job through its kernel. Each child is a journaled step of
 * the parent (kind `child`): the child is created with `parentJobId` and an idempotency key
 * derived from the step's key, so a resumed parent finds the child it already spawned (and its
 * result in the journal) instead of spawning it again. A child that ends without completing
 * surfaces as `ChildJobFailedError` naming it.
 *
 * Pass the kernel explicitly: the runtime has no global kernel.
 */
export class ChildJobs {
  readonly config: ResolvedOrchestrationConfig;
  private readonly kernel: RuntimeKernel;
  private readonly ctx: JobContext | OperatorContext;
  private spawned = 0;

  constructor(options: ChildJobsOptions) {
    if (typeof options?.kernel?.execute !== 'function') throw new InvalidArgumentError('kernel', 'must be a RuntimeKernel');
    if (typeof options.ctx !== 'object' || options.ctx === null) throw new InvalidArgumentError('ctx', 'must be the parent job context');
    this.kernel = options.kernel;
    this.ctx = options.ctx;
    this.config = resolveOrchestrationConfig(options.config);
  }

  private get job(): JobContext {
    return this.ctx instanceof OperatorContext ? this.ctx.job : this.ctx;
  }

  /** Runs one child job to its end and returns its result (journaled in the parent). */
  run(request: ChildJobRequest): Promise<ChildJobResult> {
    const req = parseRequest(request);
    this.claimSlot();
    return OperatorContext.within(this.ctx, req.name ?? `child:${req.workflow ?? 'agent'}`, (step) => this.spawnAndWait(step, req), { kind: 'child', input: request });
  }

  /**
   * Runs several child jobs (concurrently with `parallelExecution`, at most `maxParallel` at
   * once) and returns their results in order. With `propagateCancellation`, the first child
   * that fails cancels the others; the call rejects with its `ChildJobFailedError`.
   */
  runAll(requests: readonly ChildJobRequest[]): Promise<ChildJobResult[]> {
    if (!Array.isArray(requests)) throw new InvalidArgumentError('requests', 'must be an array');
    const reqs = requests.map((r) => parseRequest(r));
    for (let i = 0; i < reqs.length; i++) this.claimSlot();
    const { parallelExecution, maxParallel, propagateCancellation } = this.config;
    return OperatorContext.within(
      this.ctx,
      'children',
      async (group) => {
        const ids = group.reserveMany(reqs.length);
        return runConcurrently(
          reqs.length,
          (i, signal) => {
            const req = reqs[i]!;
            return group.scope(req.name ?? `child:${req.workflow ?? 'agent'}`, (step) => this.spawnAndWait(step, req), { kind: 'child', input: requests[i], at: ids[i]!, signal });
          },
          { maxParallel: parallelExecution ? maxParallel : 1, signal: group.signal, failFast: propagateCancellation },
        );
      },
      { input: requests as unknown as JsonValue },
    );
  }

  private claimSlot(): void {
    if (this.spawned >= this.config.maxChildJobs) {
      throw new ChildJobLimitError(this.job.jobId, 'maxChildJobs', this.config.maxChildJobs, `maxChildJobs (${this.config.maxChildJobs}) reached`);
    }
    this.spawned++;
  }

  private async spawnAndWait(step: OperatorContext, req: ParsedRequest): Promise<ChildJobResult> {
    const { kernel } = this;
    const parent = this.job;
    const stepKey = step.stepKey(step.path);
    const idempotencyKey = `child:${stepKey}`;
    let child = await kernel.stores.jobs.findByIdempotencyKey({ scopeId: parent.scopeId, idempotencyKey });
    const reason = `child of ${parent.jobId} (step ${step.path})`;
    if (child) {
      await ensureStarted(kernel, child, reason);
    } else {
      child = await this.spawn(step, req, idempotencyKey, reason);
    }
    const result = await awaitChild(kernel, child, parent.jobId, step.signal, this.config.propagateCancellation);
    const usage = journalUsage(await kernel.stores.journal.list({ jobId: child.id, scopeId: child.scopeId }));
    return { childJobId: child.id, output: result.output ?? null, usage };
  }

  private async spawn(step: OperatorContext, req: ParsedRequest, idempotencyKey: string, reason: string): Promise<JobRecord> {
    const { kernel, config } = this;
    const parent = this.job;
    const record = await kernel.getJob(parent.jobId, parent.scopeId);
    const orchestration = record?.metadata['orchestration'] as { depth?: unknown } | undefined;
    const depth = (typeof orchestration?.depth === 'number' ? orchestration.depth : 0) + 1;
    if (depth > config.maxDepth) throw new ChildJobLimitError(parent.jobId, 'maxDepth', config.maxDepth, `a child would be at depth ${depth}, past maxDepth (${config.maxDepth})`);

    let budgets = req.budgets;
    const own = parent.executionContext.budgets;
    if (config.inheritBudgets && Object.keys(own).length > 0) {
      const used = journalUsage(await kernel.stores.journal.list({ jobId: parent.jobId, scopeId: parent.scopeId }));
      const left = remainingBudget(own, used);
      if (left.exhausted) throw new ChildJobLimitError(parent.jobId, 'budget', 0, `the parent's budget is spent: ${left.exhausted}`);
      budgets = tighterBudget(left.budgets, req.budgets);
    }
    const { job } = await launchPreparedJob(
      kernel,
      {
        scopeId: parent.scopeId,
        principalId: parent.principalId,
        parentJobId: parent.jobId,
        idempotencyKey,
        input: req.input,
        ...(budgets ? { budgets } : {}),
        ...(req.priority ? { priority: req.priority } : {}),
        ...(parent.executionContext.policyRef ? { policyRef: parent.executionContext.policyRef } : {}),
        workflow: req.workflow ?? 'agent',
        agent: req.agent,
        timeoutSeconds: req.timeoutSeconds ?? config.timeoutSeconds,
        metadata: { ...(req.metadata ?? {}), orchestration: { depth, parentJobId: parent.jobId, parentStepKey: step.stepKey(step.path) } },
      },
      { reason },
    );
    return job;
  }
}

type ParsedRequest = z.output<typeof ChildJobRequestSchema>;

function parseRequest(request: ChildJobRequest): ParsedRequest {
  const parsed = ChildJobRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`request${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, issue?.message ?? 'invalid child job request', parsed.error);
  }
  return parsed.data;
}

/** Waits for a child's result; when `signal` fires first, cancels the child (with `propagate`) and rejects. */
async function awaitChild(kernel: RuntimeKernel, child: JobRecord, parentJobId: string, signal: AbortSignal, propagate: boolean): Promise<JobResult> {
  const stopped = () => (signal.reason instanceof Error ? signal.reason : new AbortError(signal.reason));
  const cancel = () => (propagate ? kernel.cancel(child.id, child.scopeId, `stopped with its parent ${parentJobId}`).then(() => undefined, () => undefined) : Promise.resolve());
  if (signal.aborted) {
    await cancel();
    throw stopped();
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => void cancel().then(() => reject(stopped()));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([kernel.result(child.id, child.scopeId), aborted]);
  } catch (error) {
    if (signal.aborted) throw stopped();
    if (error instanceof JobEndedError) {
      throw new ChildJobFailedError({ childJobId: child.id, parentJobId, childStatus: error.status, message: error.message, childErrorCode: error.errorCode, cause: error });
    }
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Cancels every unfinished descendant of a job (children first found by `parentJobId`). Returns how many were cancelled. */
export async function cancelChildJobs(kernel: RuntimeKernel, parent: JobRef, reason = `parent ${parent.jobId} cancelled`): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await kernel.listJobs({ scopeId: parent.scopeId, parentJobId: parent.jobId, cursor, limit: 200 });
    for (const child of page.jobs) {
      count += await cancelChildJobs(kernel, { jobId: child.id, scopeId: child.scopeId }, reason);
      if (!isTerminalJobStatus(child.status)) {
        await kernel.cancel(child.id, child.scopeId, reason);
        count++;
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}
