import { z } from 'zod';

/** Limits for one job (and, with `inheritBudgets`, its children). Absent = unlimited. */
export const BudgetSpecSchema = z.object({
  maxTokens: z.number().int().positive().optional(),
  /** USD as a decimal string ("0.50") or number. */
  maxCost: z.union([z.string().regex(/^\d+(\.\d{1,9})?$/), z.number().nonnegative()]).optional(),
  maxToolCalls: z.number().int().nonnegative().optional(),
  maxTurns: z.number().int().positive().optional(),
  maxRuntimeSeconds: z.number().positive().optional(),
});
export type BudgetSpec = z.infer<typeof BudgetSpecSchema>;

/** Names a policy set registered with the `PolicyEngine` (and optionally its version). */
export const PolicyRefSchema = z.object({
  name: z.string().min(1),
  version: z.string().optional(),
});
export type PolicyRef = z.infer<typeof PolicyRefSchema>;

/**
 * Who a job runs for and within which limits. `scopeId` is the tenant: every store query is
 * scoped by it. `signal` aborts everything the job does.
 */
export interface ExecutionContext {
  readonly scopeId: string;
  readonly principalId: string;
  readonly sessionId?: string | undefined;
  readonly jobId?: string | undefined;
  readonly traceId?: string | undefined;
  readonly budgets: BudgetSpec;
  readonly policyRef?: PolicyRef | undefined;
  /** Epoch milliseconds after which the job must stop. */
  readonly deadline?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export const ExecutionContextSchema = z.object({
  scopeId: z.string().min(1),
  principalId: z.string().min(1),
  sessionId: z.string().min(1).optional(),
  jobId: z.string().min(1).optional(),
  traceId: z.string().min(1).optional(),
  budgets: BudgetSpecSchema.default({}),
  policyRef: PolicyRefSchema.optional(),
  deadline: z.number().int().positive().optional(),
});
