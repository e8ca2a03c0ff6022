import { BatonError } from '@baton/llm-client';
import type { JobContext } from '../kernel/job-context.js';

/** The kernel no longer lets a context view allocate its own step ids (a runtime upgrade changed `JobContext`). */
export class ScopedContextUnsupportedError extends BatonError {
  override readonly name = 'ScopedContextUnsupportedError';
  readonly code = 'scoped_context_unsupported';
  constructor() {
    super({ message: 'This JobContext cannot allocate nested step ids: the runtime kernel and the orchestration module are out of step' });
  }
}

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
  if (typeof (ctx as unknown as { allocate?: unknown }).allocate !== 'function') throw new ScopedContextUnsupportedError();
  const view = Object.create(ctx) as JobContext;
  Object.defineProperty(view, 'allocate', { value: allocate });
  Object.defineProperty(view, 'signal', { value: signal });
  return view;
}
