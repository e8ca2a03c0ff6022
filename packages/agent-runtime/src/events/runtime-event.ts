import { z } from 'zod';
import { CorruptRecordError } from '../errors/store-errors.js';
import { fastCheckOf, type FastCheck } from '../jobs/fast-check.js';
import { parseStoredRecord } from '../jobs/stored-record.js';
import { RUNTIME_EVENT_DATA_SCHEMAS, type RuntimeEventDataMap } from './runtime-event-data.js';
import { RuntimeEventTypeSchema, type RuntimeEventType } from './runtime-event-type.js';

export const RUNTIME_EVENT_SCHEMA_VERSION = 1;

/** Fields every event carries. `seq` is per job, from 1, assigned by the bus on publish. */
export interface RuntimeEventBase {
  readonly schemaVersion: 1;
  readonly id: string;
  readonly jobId: string;
  readonly scopeId: string;
  readonly sessionId?: string | undefined;
  readonly traceId?: string | undefined;
  readonly seq: number;
  /** Epoch milliseconds. */
  readonly at: number;
}

/**
 * A typed runtime event: a discriminated union on `type` (switch on it exhaustively).
 * `RuntimeEvent<'job.failed'>` narrows to one member.
 */
export type RuntimeEvent<K extends RuntimeEventType = RuntimeEventType> = K extends RuntimeEventType
  ? RuntimeEventBase & { readonly type: K; readonly data: RuntimeEventDataMap[K] }
  : never;

/** What a publisher hands to `EventBus.publish`: the bus assigns `seq`, and `id`/`at` when absent. */
export type RuntimeEventInput<K extends RuntimeEventType = RuntimeEventType> = K extends RuntimeEventType
  ? {
      readonly type: K;
      readonly jobId: string;
      readonly scopeId: string;
      readonly sessionId?: string | undefined;
      readonly traceId?: string | undefined;
      readonly data: RuntimeEventDataMap[K];
      readonly id?: string | undefined;
      readonly at?: number | undefined;
    }
  : never;

const id = z.string().min(1);

export const RuntimeEventBaseSchema = z.object({
  schemaVersion: z.literal(RUNTIME_EVENT_SCHEMA_VERSION),
  id,
  type: RuntimeEventTypeSchema,
  jobId: id,
  scopeId: id,
  sessionId: id.optional(),
  traceId: id.optional(),
  seq: z.number().int().positive(),
  at: z.number().nonnegative(),
  data: z.unknown(),
});

const FAST_BASE = fastCheckOf(RuntimeEventBaseSchema);
const FAST_DATA = new Map<RuntimeEventType, FastCheck>(Object.entries(RUNTIME_EVENT_DATA_SCHEMAS).map(([type, schema]) => [type as RuntimeEventType, fastCheckOf(schema)]));

/**
 * Whether `raw` is a valid event that `parseRuntimeEvent` would return unchanged, told without
 * the parser (and its copy). `false` says nothing: parse it to learn more.
 */
export function passesAsRuntimeEvent(raw: unknown): raw is RuntimeEvent {
  if (!FAST_BASE(raw)) return false;
  const data = FAST_DATA.get((raw as { type: RuntimeEventType }).type);
  return data !== undefined && data((raw as { data: unknown }).data);
}

/**
 * Parses a stored event (the envelope, then `data` by its type); throws `CorruptRecordError`
 * naming the job and seq when it does not match schema version 1.
 */
export function parseRuntimeEvent(raw: unknown, ref?: { jobId?: string; scopeId?: string; seq?: number }): RuntimeEvent {
  // A valid event (the common case) passes without the parser's copy; anything else is parsed.
  if (passesAsRuntimeEvent(raw)) return { ...raw };
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as { jobId?: unknown; seq?: unknown };
  const jobId = ref?.jobId ?? (typeof r.jobId === 'string' ? r.jobId : undefined);
  const seq = ref?.seq ?? (typeof r.seq === 'number' ? r.seq : undefined);
  const recordId = `${jobId ?? '(unknown job)'}#${seq ?? '?'}`;
  const base = parseStoredRecord({
    schema: RuntimeEventBaseSchema,
    raw,
    version: RUNTIME_EVENT_SCHEMA_VERSION,
    recordType: 'event',
    recordId,
    jobId,
    scopeId: ref?.scopeId,
  });
  const data = RUNTIME_EVENT_DATA_SCHEMAS[base.type].safeParse(base.data);
  if (!data.success) {
    const first = data.error.issues[0];
    throw new CorruptRecordError({
      recordType: 'event',
      recordId,
      jobId,
      scopeId: ref?.scopeId,
      schemaVersion: base.schemaVersion,
      issue: `data${first && first.path.length ? `.${first.path.join('.')}` : ''}: ${first?.message ?? data.error.message} (type ${base.type})`,
      cause: data.error,
    });
  }
  return { ...base, data: data.data } as RuntimeEvent;
}

/** Narrows an event to one type: `if (isEventType(e, 'job.failed')) e.data.error`. */
export function isEventType<K extends RuntimeEventType>(event: RuntimeEvent, type: K): event is RuntimeEvent<K> {
  return event.type === type;
}
