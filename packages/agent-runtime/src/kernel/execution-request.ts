import { z } from 'zod';
import { BudgetSpecSchema, PolicyRefSchema } from '../context/execution-context.js';
import { JobPrioritySchema } from '../jobs/job-priority.js';
import { JsonObjectSchema, JsonValueSchema } from '../jobs/json-value.js';

/** What a session does with a new message while it already has an active job. */
export const InterruptionStrategySchema = z.enum(['reject', 'enqueue', 'interrupt', 'rollback']);
export type InterruptionStrategy = z.infer<typeof InterruptionStrategySchema>;

const id = z.string().min(1).max(256);

/**
 * A request to run a job. `workflow` names a workflow registered with the kernel, or `agent`
 * (the default) to run one of the kernel's agents (`agent` names it; default `default`) on the
 * input: a string, or `{ message, history? }`.
 */
export const ExecutionRequestSchema = z.strictObject({
  input: JsonValueSchema,
  scopeId: id,
  principalId: id,
  sessionId: id.optional(),
  /**
   * The job this one belongs to (a sub-task it started): recorded on the job and its
   * `job.created` event, and listed with `listJobs({ parentJobId })`. It must exist in the scope.
   */
  parentJobId: id.optional(),
  workflow: id.optional(),
  agent: id.optional(),
  idempotencyKey: id.optional(),
  priority: JobPrioritySchema.optional(),
  budgets: BudgetSpecSchema.optional(),
  policyRef: PolicyRefSchema.optional(),
  metadata: JsonObjectSchema.optional(),
  /** What to do when the session is busy; default: the kernel's `sessionStrategy`. */
  strategy: InterruptionStrategySchema.optional(),
  /** The job fails with a timeout when it has not finished this long after it starts running. */
  timeoutSeconds: z.number().positive().max(30 * 86_400).optional(),
  traceId: z.string().regex(/^[0-9a-f]{32}$/).optional(),
});
export type ExecutionRequest = z.input<typeof ExecutionRequestSchema>;

/** The agent workflow's input: a message, optionally with the conversation before it. */
export const AgentInputSchema = z.union([
  z.string().min(1),
  z.strictObject({
    message: z.string().min(1),
    history: z
      .array(
        z.union([
          z.object({ role: z.literal('system'), content: z.string() }),
          z.object({ role: z.literal('user'), content: z.string() }),
          z.object({ role: z.literal('assistant'), content: z.string() }),
        ]),
      )
      .optional(),
  }),
]);
export type AgentInput = z.infer<typeof AgentInputSchema>;
