import { InvalidArgumentError } from '@baton/llm-client';
import { z } from 'zod';
import { JsonObjectSchema, type JsonObject } from '../jobs/json-value.js';

export const RunMetadataSchema = z.strictObject({
  /** The runtime that produced the run (e.g. the `@baton/agent-runtime` version). */
  runtimeVersion: z.string().min(1).max(100),
  /** The model (and version) the run used, e.g. `gpt-4o-2024-08-06`. */
  modelVersion: z.string().min(1).max(200),
  /** Epoch milliseconds. */
  recordedAt: z.number().int().nonnegative(),
  jobId: z.string().min(1).optional(),
  scopeId: z.string().min(1).optional(),
  workflow: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
  hostId: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  /** Anything else worth keeping with the recording (never secrets). */
  extra: JsonObjectSchema.optional(),
});
export type RunMetadataInit = Omit<z.input<typeof RunMetadataSchema>, 'recordedAt'> & { recordedAt?: number };
export type RunMetadataData = z.output<typeof RunMetadataSchema>;

/** What a recording says about the run it holds: versions, ids, labels. */
export class RunMetadata {
  readonly runtimeVersion: string;
  readonly modelVersion: string;
  readonly recordedAt: number;
  readonly jobId: string | undefined;
  readonly scopeId: string | undefined;
  readonly workflow: string | undefined;
  readonly provider: string | undefined;
  readonly hostId: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly extra: JsonObject | undefined;

  private constructor(data: RunMetadataData) {
    this.runtimeVersion = data.runtimeVersion;
    this.modelVersion = data.modelVersion;
    this.recordedAt = data.recordedAt;
    this.jobId = data.jobId;
    this.scopeId = data.scopeId;
    this.workflow = data.workflow;
    this.provider = data.provider;
    this.hostId = data.hostId;
    this.labels = Object.freeze({ ...data.labels });
    this.extra = data.extra;
    Object.freeze(this);
  }

  /** Validates and fills in `recordedAt` (now) and `labels` ({}); a bad field → `InvalidArgumentError`. */
  static create(init: RunMetadataInit, options: { now?: () => number } = {}): RunMetadata {
    const parsed = RunMetadataSchema.safeParse({ ...init, recordedAt: init?.recordedAt ?? (options.now ?? Date.now)() });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidArgumentError(`metadata${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, issue?.message ?? 'invalid run metadata', parsed.error);
    }
    return new RunMetadata(parsed.data);
  }

  /** From already-validated data (a loaded recording). */
  static fromData(data: RunMetadataData): RunMetadata {
    return new RunMetadata(data);
  }

  toJSON(): RunMetadataData {
    const out: RunMetadataData = { runtimeVersion: this.runtimeVersion, modelVersion: this.modelVersion, recordedAt: this.recordedAt, labels: { ...this.labels } };
    if (this.jobId !== undefined) out.jobId = this.jobId;
    if (this.scopeId !== undefined) out.scopeId = this.scopeId;
    if (this.workflow !== undefined) out.workflow = this.workflow;
    if (this.provider !== undefined) out.provider = this.provider;
    if (this.hostId !== undefined) out.hostId = this.hostId;
    if (this.extra !== undefined) out.extra = this.extra;
    return out;
  }
}
