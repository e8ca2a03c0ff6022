import type { z } from 'zod';
import { CorruptRecordError, type StoredRecordType } from '../errors/store-errors.js';

/**
 * Validates a record loaded from storage. A record with another `schemaVersion` than
 * `version`, or one that does not match `schema`, is a `CorruptRecordError` naming the record,
 * its job and the first issue — never a silent default.
 */
export function parseStoredRecord<T>(options: {
  schema: z.ZodType<T>;
  raw: unknown;
  version: number;
  recordType: StoredRecordType;
  recordId: string;
  jobId?: string | undefined;
  scopeId?: string | undefined;
}): T {
  const { raw } = options;
  const claimed = typeof raw === 'object' && raw !== null ? (raw as { schemaVersion?: unknown }).schemaVersion : undefined;
  const base = { recordType: options.recordType, recordId: options.recordId, jobId: options.jobId, scopeId: options.scopeId };
  if (typeof raw !== 'object' || raw === null) {
    throw new CorruptRecordError({ ...base, issue: `expected an object, got ${raw === null ? 'null' : typeof raw}` });
  }
  if (claimed !== options.version) {
    throw new CorruptRecordError({
      ...base,
      schemaVersion: claimed,
      issue: `unknown schema version ${JSON.stringify(claimed) ?? 'undefined'} (this code reads version ${options.version})`,
    });
  }
  const parsed = options.schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const issue = first ? `${first.path.length ? first.path.join('.') : '(root)'}: ${first.message}` : parsed.error.message;
    throw new CorruptRecordError({ ...base, schemaVersion: claimed, issue, cause: parsed.error });
  }
  return parsed.data;
}
