import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { CorruptRecordError } from '../errors/store-errors.js';
import { InvalidRecordingError } from '../errors/orchestration-errors.js';
import { parseRuntimeEvent, type RuntimeEvent } from '../events/runtime-event.js';
import { JsonObjectSchema, JsonValueSchema, type JsonObject, type JsonValue } from '../jobs/json-value.js';
import { JournalEntrySchema, type JournalEntry } from '../journal/journal-entry.js';
import { RunMetadata, RunMetadataSchema } from './run-metadata.js';

export const RECORDING_FORMAT = 'baton.recording';
export const RECORDING_FORMAT_VERSION = 1;

/** What a recording keeps of each job it saw (enough to run it again). */
export interface RecordedJob {
  jobId: string;
  scopeId: string;
  principalId: string;
  input: JsonValue;
  status: string;
  metadata: JsonObject;
  result?: JsonValue | undefined;
  parentJobId?: string | undefined;
}

const RecordedJobSchema = z.object({
  jobId: z.string().min(1),
  scopeId: z.string().min(1),
  principalId: z.string().min(1),
  input: JsonValueSchema,
  status: z.string().min(1),
  metadata: JsonObjectSchema,
  result: JsonValueSchema.optional(),
  parentJobId: z.string().min(1).optional(),
});

/** Version 1 of the file format. Events and journal entries are checked by their own schemas. */
const RecordingFileSchema = z.strictObject({
  format: z.literal(RECORDING_FORMAT),
  formatVersion: z.literal(RECORDING_FORMAT_VERSION),
  metadata: RunMetadataSchema,
  initialInput: JsonValueSchema,
  startedAt: z.number().nonnegative(),
  stoppedAt: z.number().nonnegative(),
  events: z.array(z.unknown()),
  journals: z.record(z.string(), z.array(JournalEntrySchema)),
  jobs: z.array(RecordedJobSchema),
});

export interface RecordingData {
  metadata: RunMetadata;
  initialInput: JsonValue;
  startedAt: number;
  stoppedAt: number;
  events: readonly RuntimeEvent[];
  /** Journal entries by job id, in seq order. */
  journals: Readonly<Record<string, readonly JournalEntry[]>>;
  jobs: readonly RecordedJob[];
}

/**
 * A recorded run: its metadata, input, events (in the order they happened) and the journals of
 * its jobs. Saved as versioned JSON; loading validates every part (a bad file →
 * `InvalidRecordingError` naming the problem).
 */
export class Recording {
  readonly metadata: RunMetadata;
  readonly initialInput: JsonValue;
  readonly startedAt: number;
  readonly stoppedAt: number;
  readonly events: readonly RuntimeEvent[];
  readonly journals: Readonly<Record<string, readonly JournalEntry[]>>;
  readonly jobs: readonly RecordedJob[];

  constructor(data: RecordingData) {
    this.metadata = data.metadata;
    this.initialInput = data.initialInput;
    this.startedAt = data.startedAt;
    this.stoppedAt = data.stoppedAt;
    this.events = data.events;
    this.journals = data.journals;
    this.jobs = data.jobs;
  }

  /** The recorded journal of a job (empty when the recording has none). */
  journal(jobId: string): readonly JournalEntry[] {
    return this.journals[jobId] ?? [];
  }

  job(jobId: string): RecordedJob | undefined {
    return this.jobs.find((j) => j.jobId === jobId);
  }

  toJSON(): z.input<typeof RecordingFileSchema> {
    return {
      format: RECORDING_FORMAT,
      formatVersion: RECORDING_FORMAT_VERSION,
      metadata: this.metadata.toJSON(),
      initialInput: this.initialInput,
      startedAt: this.startedAt,
      stoppedAt: this.stoppedAt,
      events: [...this.events],
      journals: Object.fromEntries(Object.entries(this.journals).map(([k, v]) => [k, [...v]])),
      jobs: [...this.jobs],
    };
  }

  /** Writes the recording as JSON (to a temporary file first, then renamed: no half-written file). */
  async save(path: string): Promise<void> {
    const tmp = `${path}.${randomUUID()}.tmp`;
    await writeFile(tmp, JSON.stringify(this.toJSON()), 'utf8');
    await rename(tmp, path);
  }

  /** Reads and validates a recording file. */
  static async load(path: string): Promise<Recording> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new InvalidRecordingError(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { path, cause: error });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new InvalidRecordingError('not JSON', { path, cause: error });
    }
    return Recording.fromJSON(raw, path);
  }

  /** Validates a recording's JSON form (what `toJSON` returns). */
  static fromJSON(raw: unknown, path?: string): Recording {
    const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
    if (typeof raw === 'object' && raw !== null && version !== undefined && version !== RECORDING_FORMAT_VERSION) {
      throw new InvalidRecordingError(`format version ${String(version)} is not supported (this runtime reads version ${RECORDING_FORMAT_VERSION})`, { path });
    }
    const parsed = RecordingFileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidRecordingError(`${issue?.path.length ? issue.path.join('.') : '(root)'}: ${issue?.message ?? 'invalid'}`, { path, cause: parsed.error });
    }
    const file = parsed.data;
    const events = file.events.map((e, i) => {
      try {
        return parseRuntimeEvent(e);
      } catch (error) {
        if (error instanceof CorruptRecordError) throw new InvalidRecordingError(`events.${i}: ${error.message}`, { path, cause: error });
        throw error;
      }
    });
    return new Recording({
      metadata: RunMetadata.fromData(file.metadata),
      initialInput: file.initialInput,
      startedAt: file.startedAt,
      stoppedAt: file.stoppedAt,
      events,
      journals: file.journals as Record<string, JournalEntry[]>,
      jobs: file.jobs,
    });
  }
}
