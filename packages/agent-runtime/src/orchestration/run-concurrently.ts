import { AbortError } from '@baton/llm-client';
import { JobContext } from '../kernel/job-context.js';

export interface RunConcurrentlyOptions {
  /** At most this many tasks at once (default: all). */
  maxParallel?: number | undefined;
  /** Stops everything when it fires. */
  signal?: AbortSignal | undefined;
  /**
   * On the first failure, abort the tasks in flight (through the signal each one gets) and start
   * no more (default true). Either way the call waits for the tasks in flight to settle before
   * it rejects, so every finished step is journaled.
   */
  failFast?: boolean | undefined;
}

/**
 * Runs `count` tasks, at most `maxParallel` at once, started in index order; resolves with
 * their results in index order. A task that pauses the job (waits for a person) does not stop
 * the others: they run on, and the pause is rethrown once every task has settled, so the job
 * pauses with as much work journaled as possible. A failure wins over a pause.
 */
export async function runConcurrently<R>(count: number, task: (index: number, signal: AbortSignal) => Promise<R>, options: RunConcurrentlyOptions = {}): Promise<R[]> {
  const limit = Math.max(1, Math.min(options.maxParallel ?? count, count));
  const failFast = options.failFast ?? true;
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onOuterAbort, { once: true });

  const results = new Array<R>(count);
  let next = 0;
  let failure: { error: unknown } | undefined;
  let pause: { error: unknown } | undefined;

  const worker = async (): Promise<void> => {
    for (;;) {
      if ((failure && failFast) || controller.signal.aborted) return;
      const index = next++;
      if (index >= count) return;
      try {
        results[index] = await task(index, controller.signal);
      } catch (error) {
        if (JobContext.isControlSignal(error)) {
          pause ??= { error };
        } else if (!failure) {
          failure = { error };
          if (failFast) controller.abort(new AbortError(error, 'a sibling task failed'));
        }
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: limit }, worker));
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
  }
  if (failure) throw failure.error;
  if (outer?.aborted) throw outer.reason instanceof Error ? outer.reason : new AbortError(outer.reason);
  if (pause) throw pause.error;
  return results;
}
