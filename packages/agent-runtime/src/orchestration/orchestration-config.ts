import { InvalidArgumentError } from '@baton/llm-client';
import { z } from 'zod';

/** Limits and behaviour of the child jobs a job spawns. */
export const OrchestrationConfigSchema = z.strictObject({
  /** Children one `ChildJobs` may spawn (default 10). */
  maxChildJobs: z.number().int().min(0).max(10_000).default(10),
  /** Levels below the root job (a child of the root is at depth 1; default 3). */
  maxDepth: z.number().int().min(1).max(100).default(3),
  /** Each child fails with a timeout when it has not finished this long after it starts. */
  timeoutSeconds: z.number().positive().max(30 * 86_400).optional(),
  /** Children get what is left of the parent's budgets (what the parent and earlier children used is taken off; default true). */
  inheritBudgets: z.boolean().default(true),
  /** Cancelling the parent cancels its children, and a failing child cancels its siblings (default true). */
  propagateCancellation: z.boolean().default(true),
  /** `runAll` runs children concurrently (default true) … */
  parallelExecution: z.boolean().default(true),
  /** … at most this many at once (default 4). */
  maxParallel: z.number().int().min(1).max(1_000).default(4),
});

export type OrchestrationConfig = z.input<typeof OrchestrationConfigSchema>;
export type ResolvedOrchestrationConfig = z.output<typeof OrchestrationConfigSchema>;

/** Applies defaults; a bad value → `InvalidArgumentError` naming the field. */
export function resolveOrchestrationConfig(config: OrchestrationConfig | undefined): ResolvedOrchestrationConfig {
  const parsed = OrchestrationConfigSchema.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`config${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, issue?.message ?? 'invalid orchestration config', parsed.error);
  }
  return parsed.data;
}
