import { z } from 'zod';
import type { JobRef } from '../jobs/job-record.js';
import { JsonValueSchema, type JsonValue } from '../jobs/json-value.js';
import { SerializedErrorSchema, type SerializedError } from '../jobs/serialized-error.js';
import { parseStoredRecord } from '../jobs/stored-record.js';

export const JOURNAL_ENTRY_SCHEMA_VERSION = 1;

export const JOURNAL_STEP_KINDS = ['model', 'tool', 'action', 'child', 'custom', 'state'] as const;
/** What a step did: a model call, a tool call, a wait for an action, a child job, a user step, a state update. */
export type JournalStepKind = (typeof JOURNAL_STEP_KINDS)[number];

/**
 * One finished step of a job: one row per step, never a copy of the job's whole state, so a
 * journal grows linearly with its steps. `seq` is the step index (0-based, dense); `key` =
 * `${jobId}:${seq}` is stable across resumes and hosts, and tools may use it as their own
 * idempotency key.
 */
export interface JournalEntry {
  readonly schemaVersion: 1;
  readonly jobId: string;
  readonly scopeId: string;
  readonly seq: number;
  readonly key: string;
  /**
   * The step's logical position in the job's code, when it can differ from `seq` (steps that
   * run concurrently finish, and are appended, in any order); a replay looks steps up by it.
   */
  readonly stepId?: string | undefined;
  readonly kind: JournalStepKind;
  /** The model, tool, action type or step name. */
  readonly name: string;
  readonly status: 'completed' | 'failed';
  /** A hash of the step's input: a replay that asks for another input has diverged. */
  readonly inputHash?: string | undefined;
  /** A short human-readable summary of the input (never secrets). */
  readonly inputSummary?: string | undefined;
  readonly output?: JsonValue | undefined;
  readonly error?: SerializedError | undefined;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** The lease epoch of the worker that wrote the step, when it ran under a lease. */
  readonly leaseEpoch?: number | undefined;
}

/** What a writer appends: the store fills in `schemaVersion`, `seq`, `key` and `leaseEpoch`. */
export type JournalEntryInput = Omit<JournalEntry, 'schemaVersion' | 'seq' | 'key' | 'leaseEpoch'>;

/** The stable key of a step: `${jobId}:${seq}`. */
export function stepKey(jobId: string, seq: number): string {
  return `${jobId}:${seq}`;
}

const id = z.string().min(1);
const nonNegative = z.number().nonnegative();

export const JournalEntrySchema = z.object({
  schemaVersion: z.literal(JOURNAL_ENTRY_SCHEMA_VERSION),
  jobId: id,
  scopeId: id,
  seq: z.number().int().nonnegative(),
  key: id,
  stepId: id.optional(),
  kind: z.enum(JOURNAL_STEP_KINDS),
  name: z.string().min(1),
  status: z.enum(['completed', 'failed']),
  inputHash: z.string().optional(),
  inputSummary: z.string().optional(),
  output: JsonValueSchema.optional(),
  error: SerializedErrorSchema.optional(),
  startedAt: nonNegative,
  durationMs: nonNegative,
  leaseEpoch: z.number().int().nonnegative().optional(),
});

((r: z.infer<typeof JournalEntrySchema>): JournalEntry => r) satisfies unknown;

/** Parses a stored journal entry; throws `CorruptRecordError` naming the job and step. */
export function parseJournalEntry(raw: unknown, ref: JobRef & { seq: number }): JournalEntry {
  const entry = parseStoredRecord({
    schema: JournalEntrySchema,
    raw,
    version: JOURNAL_ENTRY_SCHEMA_VERSION,
    recordType: 'journal_entry',
    recordId: stepKey(ref.jobId, ref.seq),
    jobId: ref.jobId,
    scopeId: ref.scopeId,
  }) as JournalEntry;
  return entry;
}
