import { z } from 'zod';
import { JobPrioritySchema } from '../jobs/job-priority.js';
import { JobStatusSchema } from '../jobs/job-status.js';
import { JsonObjectSchema, JsonValueSchema } from '../jobs/json-value.js';
import { SerializedErrorSchema } from '../jobs/serialized-error.js';
import type { RuntimeEventType } from './runtime-event-type.js';

const id = z.string().min(1);
const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();
/** Money is a decimal string ("0.0125"), never a float. */
const money = z.string().regex(/^-?\d+(\.\d+)?$/);
/** Extra, event-specific facts; JSON only, never secrets. */
const details = JsonObjectSchema.optional();

/** Every job status event after `job.created`: the status it left and why. */
const transition = { from: JobStatusSchema, reason: z.string().optional() };
const step = { seq: count, key: id, kind: z.enum(['model', 'tool', 'action', 'child', 'custom', 'state']), name: id };
const model = { model: id, provider: z.string().optional(), stepKey: id.optional() };
const tool = { toolName: id, toolCallId: z.string().optional(), stepKey: id.optional() };
const usage = z.object({ inputTokens: count.optional(), outputTokens: count.optional(), totalTokens: count.optional() });
const budgetLimit = {
  dimension: z.enum(['tokens', 'cost', 'toolCalls', 'turns', 'runtimeSeconds']),
  used: z.union([z.number(), money]),
  limit: z.union([z.number(), money]),
  level: z.enum(['job', 'scope']).optional(),
};
const strategy = z.enum(['interrupt', 'rollback']);

/** The `data` schema of each event type. */
export const RUNTIME_EVENT_DATA_SCHEMAS = {
  'job.created': z.object({
    status: JobStatusSchema,
    priority: JobPrioritySchema,
    principalId: id,
    parentJobId: id.optional(),
    idempotencyKey: id.optional(),
  }),
  'job.started': z.object({ ...transition, attempt: z.number().int().positive(), leaseOwner: id.optional(), leaseEpoch: count.optional() }),
  'job.waiting': z.object({ ...transition, actionId: id.optional() }),
  'job.resumed': z.object({ ...transition, actionId: id.optional() }),
  'job.requeued': z.object({ ...transition }),
  'job.interrupted': z.object({ ...transition, byJobId: id.optional() }),
  'job.completed': z.object({ ...transition, result: JsonValueSchema.optional() }),
  'job.failed': z.object({ ...transition, error: SerializedErrorSchema }),
  'job.cancelled': z.object({ ...transition }),
  'job.dead_lettered': z.object({ ...transition, claims: count.optional() }),
  'step.started': z.object({ ...step }),
  'step.completed': z.object({ ...step, durationMs: ms }),
  'step.failed': z.object({ ...step, durationMs: ms, error: SerializedErrorSchema }),
  'model.started': z.object({ ...model }),
  'model.delta': z.object({ ...model, textDelta: z.string() }),
  'model.completed': z.object({ ...model, usage: usage.optional(), finishReason: z.string().optional(), durationMs: ms.optional() }),
  'model.failed': z.object({ ...model, error: SerializedErrorSchema }),
  'tool.started': z.object({ ...tool }),
  'tool.completed': z.object({ ...tool, durationMs: ms.optional() }),
  'tool.failed': z.object({ ...tool, error: SerializedErrorSchema }),
  'action.required': z.object({
    actionId: id,
    actionType: id,
    principalIds: z.array(id).optional(),
    expiresAt: ms.optional(),
    stepKey: id.optional(),
    details,
  }),
  'action.resolved': z.object({ actionId: id, actionType: id.optional(), resolvedBy: id.optional(), outcome: z.string().optional(), details }),
  'action.expired': z.object({ actionId: id, actionType: id.optional(), outcome: z.string().optional(), details }),
  'action.escalated': z.object({ actionId: id, escalatedToActionId: id, principalIds: z.array(id).optional(), details }),
  'policy.decision': z.object({
    subject: z.enum(['tool', 'model', 'custom']),
    name: id,
    decision: z.enum(['allow', 'deny', 'require_approval']),
    reason: z.string().optional(),
    rule: z.string().optional(),
    details,
  }),
  'budget.reserved': z.object({ reservationId: id.optional(), tokens: count.optional(), cost: money.optional(), details }),
  'budget.warning': z.object({ ...budgetLimit, details }),
  'budget.exceeded': z.object({ ...budgetLimit, details }),
  'checkpoint.saved': z.object({ seq: count, key: id }),
  'interruption.requested': z.object({ strategy, sessionId: id.optional(), byJobId: id.optional(), reason: z.string().optional() }),
  'interruption.completed': z.object({ strategy, keptSteps: count.optional(), nextJobId: id.optional() }),
} as const satisfies Record<RuntimeEventType, z.ZodType>;

/** The `data` type of each event type. */
export type RuntimeEventDataMap = { [K in RuntimeEventType]: z.infer<(typeof RUNTIME_EVENT_DATA_SCHEMAS)[K]> };
