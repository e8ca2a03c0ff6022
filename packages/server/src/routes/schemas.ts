import { ExecutionRequestSchema, InterruptionStrategySchema, JOB_STATUSES, JobStatusSchema, JsonObjectSchema, JsonValueSchema } from '@baton/agent-runtime';
import { z } from 'zod';

const id = z.string().min(1).max(256);

/** `POST /jobs`: an `ExecutionRequest` without `scopeId`/`principalId`, which come from `authenticate`. */
export const CreateJobBodySchema = ExecutionRequestSchema.omit({ scopeId: true, principalId: true });
export type CreateJobBody = z.output<typeof CreateJobBodySchema>;

const HistoryMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});

/** `POST /sessions/:id/messages`: one chat turn. */
export const SessionMessageBodySchema = z.strictObject({
  message: z.string().min(1).max(1_000_000),
  /** What to do when the session is busy; default: the kernel's `sessionStrategy`. */
  strategy: InterruptionStrategySchema.optional(),
  history: z.array(HistoryMessageSchema).max(10_000).optional(),
  agent: id.optional(),
  idempotencyKey: id.optional(),
  metadata: JsonObjectSchema.optional(),
});
export type SessionMessageBody = z.output<typeof SessionMessageBodySchema>;

/** `POST /jobs/:id/cancel` (the body may be empty). */
export const CancelJobBodySchema = z.strictObject({ reason: z.string().max(1_000).optional() });

/** `POST /actions/resolve`. */
export const ResolveActionBodySchema = z.strictObject({
  resumeToken: z.string().min(1).max(512),
  resolution: JsonValueSchema,
  comment: z.string().max(10_000).optional(),
});

/** `GET /jobs?sessionId=&status=&cursor=&limit=&order=`; `status` may repeat or be comma-separated. */
export const ListJobsQuerySchema = z.strictObject({
  sessionId: id.optional(),
  status: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .pipe(z.array(JobStatusSchema, { error: `must be one or more of ${JOB_STATUSES.join(', ')}` }))
    .optional(),
  cursor: z.string().min(1).max(4_096).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).optional(),
  order: z.enum(['asc', 'desc']).optional(),
});

/** `GET /actions?jobId=`. */
export const ListActionsQuerySchema = z.strictObject({ jobId: id });
