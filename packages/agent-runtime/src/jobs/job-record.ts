import { z } from 'zod';
import { BudgetSpecSchema, PolicyRefSchema, type BudgetSpec, type PolicyRef } from '../context/execution-context.js';
import { JobPrioritySchema, type JobPriority } from './job-priority.js';
import { JobStatusSchema, type JobStatus } from './job-status.js';
import { JsonObjectSchema, JsonValueSchema, type JsonObject, type JsonValue } from './json-value.js';
import { SerializedErrorSchema, type SerializedError } from './serialized-error.js';
import { parseStoredRecord } from './stored-record.js';

export const JOB_RECORD_SCHEMA_VERSION = 1;

/** Locates one job: every store call is scoped, and another scope's job is "not found". */
export interface JobRef {
  readonly scopeId: string;
  readonly jobId: string;
}

/** One entry of a job's state history: the status it entered, when, and why. */
export interface JobStateChange {
  readonly status: JobStatus;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly reason?: string | undefined;
}

/**
 * A job as stored. Immutable: a change is a new record with `version + 1` (compare-and-set).
 * Times are epoch milliseconds.
 */
export interface JobRecord {
  readonly schemaVersion: 1;
  readonly id: string;
  readonly scopeId: string;
  readonly principalId: string;
  readonly sessionId?: string | undefined;
  readonly parentJobId?: string | undefined;
  readonly idempotencyKey?: string | undefined;
  readonly priority: JobPriority;
  readonly status: JobStatus;
  readonly input: JsonValue;
  readonly result?: JsonValue | undefined;
  readonly error?: SerializedError | undefined;
  readonly budgets: BudgetSpec;
  readonly policyRef?: PolicyRef | undefined;
  readonly metadata: JsonObject;
  /** How many times the job was started (queued → running). */
  readonly attempts: number;
  readonly stateHistory: readonly JobStateChange[];
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The worker holding the job, while one does. */
  readonly leaseOwner?: string | undefined;
  readonly leaseExpiresAt?: number | undefined;
  /** Fencing token: raised on every claim; writes carrying a lower epoch are rejected. 0 = never claimed. */
  readonly leaseEpoch: number;
  /** Optimistic concurrency: 1 on create, +1 on every update. */
  readonly version: number;
}

const id = z.string().min(1);
const epochMs = z.number().int().nonnegative();

export const JobStateChangeSchema = z.object({ status: JobStatusSchema, at: epochMs, reason: z.string().optional() });

export const JobRecordSchema = z.object({
  schemaVersion: z.literal(JOB_RECORD_SCHEMA_VERSION),
  id,
  scopeId: id,
  principalId: id,
  sessionId: id.optional(),
  parentJobId: id.optional(),
  idempotencyKey: id.optional(),
  priority: JobPrioritySchema,
  status: JobStatusSchema,
  input: JsonValueSchema,
  result: JsonValueSchema.optional(),
  error: SerializedErrorSchema.optional(),
  budgets: BudgetSpecSchema,
  policyRef: PolicyRefSchema.optional(),
  metadata: JsonObjectSchema,
  attempts: z.number().int().nonnegative(),
  stateHistory: z.array(JobStateChangeSchema),
  createdAt: epochMs,
  updatedAt: epochMs,
  leaseOwner: id.optional(),
  leaseExpiresAt: epochMs.optional(),
  leaseEpoch: z.number().int().nonnegative(),
  version: z.number().int().positive(),
});

// The schema and the interface describe the same record.
((r: z.infer<typeof JobRecordSchema>): JobRecord => r) satisfies unknown;

/** Parses a stored job; throws `CorruptRecordError` when it does not match schema version 1. */
export function parseJobRecord(raw: unknown, ref?: Partial<JobRef>): JobRecord {
  const recordId = ref?.jobId ?? (raw as { id?: unknown } | null)?.id;
  return parseStoredRecord({
    schema: JobRecordSchema,
    raw,
    version: JOB_RECORD_SCHEMA_VERSION,
    recordType: 'job',
    recordId: typeof recordId === 'string' ? recordId : '(unknown)',
    jobId: typeof recordId === 'string' ? recordId : undefined,
    scopeId: ref?.scopeId,
  }) as JobRecord;
}
