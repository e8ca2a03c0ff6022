import { z } from 'zod';
import { BudgetSpecSchema, PolicyRefSchema, type BudgetSpec, type PolicyRef } from '../context/execution-context.js';
import { JobPrioritySchema, type JobPriority } from './job-priority.js';
import type { JsonObject, JsonValue } from './json-value.js';
import { JsonObjectSchema, JsonValueSchema } from './json-value.js';

/** What a caller asks for when creating a job. */
export interface JobSpec {
  readonly scopeId: string;
  readonly principalId: string;
  /** An id for the job; generated when absent. */
  readonly jobId?: string | undefined;
  readonly sessionId?: string | undefined;
  readonly parentJobId?: string | undefined;
  /** Creating twice with the same key in the same scope returns the first job. */
  readonly idempotencyKey?: string | undefined;
  /** Default `normal`. */
  readonly priority?: JobPriority | undefined;
  readonly input: JsonValue;
  readonly budgets?: BudgetSpec | undefined;
  readonly policyRef?: PolicyRef | undefined;
  readonly metadata?: JsonObject | undefined;
}

const id = z.string().min(1);

export const JobSpecSchema = z.object({
  scopeId: id,
  principalId: id,
  jobId: id.optional(),
  sessionId: id.optional(),
  parentJobId: id.optional(),
  idempotencyKey: id.max(512).optional(),
  priority: JobPrioritySchema.optional(),
  input: JsonValueSchema,
  budgets: BudgetSpecSchema.optional(),
  policyRef: PolicyRefSchema.optional(),
  metadata: JsonObjectSchema.optional(),
});
