import { z } from 'zod';
import { RuntimeEventTypeSchema, type RuntimeEventType } from '../events/runtime-event-type.js';
import { JsonObjectSchema, JsonValueSchema, type JsonObject, type JsonValue } from '../jobs/json-value.js';

export const SHARED_LOG_SCHEMA_VERSION = 1;
export const DEFERRED_EVENT_SCHEMA_VERSION = 1;

/** One entry of a job's append-only shared log. `index` is dense from 0. */
export interface SharedLogRecord {
  readonly schemaVersion: 1;
  readonly jobId: string;
  readonly scopeId: string;
  readonly index: number;
  readonly value: JsonValue;
  /** Epoch milliseconds. */
  readonly at: number;
}

/** An event a step asked to publish when the job resumes (e.g. "approval received"). */
export interface DeferredEventInput {
  readonly type: RuntimeEventType;
  readonly data: JsonObject;
}

export interface DeferredEvent extends DeferredEventInput {
  readonly schemaVersion: 1;
  readonly jobId: string;
  readonly scopeId: string;
  /** Epoch milliseconds at which the step deferred it. */
  readonly createdAt: number;
}

const id = z.string().min(1);

export const SharedLogRecordSchema = z.object({
  schemaVersion: z.literal(SHARED_LOG_SCHEMA_VERSION),
  jobId: id,
  scopeId: id,
  index: z.number().int().nonnegative(),
  value: JsonValueSchema,
  at: z.number().nonnegative(),
});

export const DeferredEventInputSchema = z.object({ type: RuntimeEventTypeSchema, data: JsonObjectSchema });

export const DeferredEventSchema = DeferredEventInputSchema.extend({
  schemaVersion: z.literal(DEFERRED_EVENT_SCHEMA_VERSION),
  jobId: id,
  scopeId: id,
  createdAt: z.number().nonnegative(),
});

((r: z.infer<typeof SharedLogRecordSchema>): SharedLogRecord => r) satisfies unknown;
((r: z.infer<typeof DeferredEventSchema>): DeferredEvent => r) satisfies unknown;
