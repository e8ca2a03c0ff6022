import { ScopedContextUnsupportedError } from '../errors/orchestration-errors.js';
import type { JobContext } from '../kernel/job-context.js';

/**
 * A view of a job's context whose top-level step ids come from `allocate` and whose abort
 * signal is `signal`. Everything else (journal, policy, budgets, events, actions) is the job's.
 *
 * `JobContext` numbers the steps it allocates itself (`"0"`, `"1"`, …) in call order. Operators
 * that run concurrently need ids that do not depend on which branch calls first, so each
 * operator gets a view allocating under its own prefix (`"3.1.0"`, `"3.1.1"`, …); an agent run
 * inside it nests its calls under that id as usual (`"3.1.0.<callIndex>"`). The signal lets a
 * branch be stopped (a node timeout, a failed sibling) without stopping the job.
 */
export function scopedJobContext(ctx: JobContext, allocate: () => string, signal: AbortSignal): JobContext {
  if (typeof (ctx as Partial<JobContext>).withScope !== 'function') throw new ScopedContextUnsupportedError();
  return ctx.withScope({ allocate, signal });
}
