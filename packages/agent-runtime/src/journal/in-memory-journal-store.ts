import { InvalidArgumentError } from '@baton/llm-client';
import { CorruptRecordError, JournalConflictError, LeaseLostError } from '../errors/store-errors.js';
import { RUNTIME_EVENT_TYPES } from '../events/runtime-event-type.js';
import type { JobRef } from '../jobs/job-record.js';
import { ScopedMap } from '../jobs/scoped-map.js';
import { toFrozenJson, toFrozenJsonObject, type JsonObject, type JsonValue } from '../jobs/json-value.js';
import type { SerializedError } from '../jobs/serialized-error.js';
import type { RuntimeEvent } from '../events/runtime-event.js';
import { publishOutbox, type EventOutbox } from '../ports/event-bus.js';
import { checkAppendBatch, JournalStore, type AppendJournalOptions, type FencedWrite, type JournalHead, type JournalLoad } from '../ports/journal-store.js';
import { JOURNAL_STEP_KINDS, parseJournalEntry, stepKey, type JournalEntry, type JournalEntryInput } from './journal-entry.js';
import type { DeferredEvent, DeferredEventInput, SharedLogRecord } from './journal-records.js';

export interface InMemoryJournalStoreOptions {
  /** Epoch milliseconds for shared-log and deferred-event timestamps; injectable for tests. */
  readonly now?: (() => number) | undefined;
}

interface JobJournal {
  readonly jobId: string;
  readonly scopeId: string;
  /** Entries from `firstSeq` on; an element is a stored entry or a planted raw row. */
  entries: unknown[];
  firstSeq: number;
  nextSeq: number;
  fence: number;
  shared: Map<string, JsonValue>;
  sharedSnapshot: Readonly<JsonObject> | undefined;
  log: SharedLogRecord[];
  deferred: DeferredEvent[];
}

const KINDS: ReadonlySet<string> = new Set(JOURNAL_STEP_KINDS);
const EVENT_TYPES: ReadonlySet<string> = new Set(RUNTIME_EVENT_TYPES);
const EMPTY: Readonly<JsonObject> = Object.freeze({});

/**
 * `JournalStore` in process memory. An append validates and copies the entry into a frozen
 * record in one pass (no clone on read: readers get the stored record), so it costs about a
 * microsecond. Only entries this store wrote are trusted as they are; anything else in it (see
 * `plantRawForTesting`) is parsed on load.
 */
export class InMemoryJournalStore extends JournalStore {
  readonly #journals = new ScopedMap<JobJournal>();
  /** Rows put in by `plantRawForTesting`: the only ones not written (and validated) by this store. */
  readonly #planted = new Set<unknown>();
  readonly #now: () => number;

  constructor(options: InMemoryJournalStoreOptions = {}) {
    super();
    this.#now = options.now ?? Date.now;
  }

  override async append(entry: JournalEntryInput, options: AppendJournalOptions): Promise<JournalEntry> {
    const expectedSeq = options?.expectedSeq;
    if (!Number.isInteger(expectedSeq) || expectedSeq < 0) throw new InvalidArgumentError('expectedSeq', 'must be an integer ≥ 0');
    const record = toEntry(entry, expectedSeq, checkEpoch(options.leaseEpoch));
    const journal = this.#journals.get(record.scopeId, record.jobId);
    this.#checkFence(journal, record.jobId, options.leaseEpoch);
    const nextSeq = journal?.nextSeq ?? 0;
    if (expectedSeq !== nextSeq) throw new JournalConflictError({ jobId: record.jobId, expectedSeq, nextSeq });
    const j = journal ?? this.#open(record);
    j.entries.push(record);
    j.nextSeq = expectedSeq + 1;
    this.#raiseFence(j, options.leaseEpoch);
    return record;
  }

  /**
   * Every entry validated first, then all written at once (or none: a refused or invalid entry
   * changes nothing); the outbox's events are published once they are written.
   */
  override async appendMany(entries: readonly JournalEntryInput[], options: AppendJournalOptions, outbox?: EventOutbox): Promise<{ entries: JournalEntry[]; events: RuntimeEvent[] }> {
    checkAppendBatch(entries, options);
    const { expectedSeq } = options;
    const epoch = checkEpoch(options.leaseEpoch);
    const records = entries.map((entry, i) => toEntry(entry, expectedSeq + i, epoch));
    const first = records[0]!;
    const journal = this.#journals.get(first.scopeId, first.jobId);
    this.#checkFence(journal, first.jobId, options.leaseEpoch);
    const nextSeq = journal?.nextSeq ?? 0;
    if (expectedSeq !== nextSeq) throw new JournalConflictError({ jobId: first.jobId, expectedSeq, nextSeq });
    const j = journal ?? this.#open(first);
    j.entries.push(...records);
    j.nextSeq = expectedSeq + records.length;
    this.#raiseFence(j, options.leaseEpoch);
    return { entries: records, events: await publishOutbox(outbox) };
  }

  override async list(options: JobRef & { fromSeq?: number | undefined; limit?: number | undefined }): Promise<readonly JournalEntry[]> {
    const fromSeq = options.fromSeq ?? 0;
    if (!Number.isInteger(fromSeq) || fromSeq < 0) throw new InvalidArgumentError('fromSeq', 'must be an integer ≥ 0');
    const limit = checkLimit(options.limit);
    const journal = this.#get(options);
    if (!journal) return [];
    const start = Math.max(0, fromSeq - journal.firstSeq);
    const end = Math.min(journal.entries.length, start + limit);
    const out: JournalEntry[] = [];
    for (let i = start; i < end; i++) out.push(this.#load(journal, i));
    return out;
  }

  override async head(ref: JobRef): Promise<JournalHead> {
    const journal = this.#get(ref);
    if (!journal) return { nextSeq: 0, firstSeq: 0, leaseEpoch: 0 };
    return { nextSeq: journal.nextSeq, firstSeq: journal.firstSeq, leaseEpoch: journal.fence };
  }

  override async fence(options: JobRef & { leaseEpoch: number }): Promise<void> {
    const epoch = checkEpoch(options.leaseEpoch);
    if (epoch === undefined) throw new InvalidArgumentError('leaseEpoch', 'required');
    const journal = this.#get(options);
    this.#checkFence(journal, options.jobId, epoch);
    this.#raiseFence(journal ?? this.#open(checkRef(options)), epoch);
  }

  override async setSharedData(options: JobRef & FencedWrite & { values: JsonObject }): Promise<void> {
    const values = toFrozenJsonObject(options.values, 'values');
    const journal = this.#writable(options);
    for (const [key, value] of Object.entries(values)) journal.shared.set(key, value);
    journal.sharedSnapshot = undefined;
  }

  override async deleteSharedData(options: JobRef & FencedWrite & { keys: readonly string[] }): Promise<void> {
    if (!Array.isArray(options.keys) || options.keys.some((k) => typeof k !== 'string')) throw new InvalidArgumentError('keys', 'must be an array of strings');
    const journal = this.#writable(options);
    for (const key of options.keys) journal.shared.delete(key);
    journal.sharedSnapshot = undefined;
  }

  override async getSharedData(ref: JobRef): Promise<Readonly<JsonObject>> {
    const journal = this.#get(ref);
    if (!journal || journal.shared.size === 0) return EMPTY;
    journal.sharedSnapshot ??= Object.freeze(Object.fromEntries(journal.shared));
    return journal.sharedSnapshot;
  }

  override async appendSharedLog(options: JobRef & FencedWrite & { entries: readonly JsonValue[] }): Promise<readonly SharedLogRecord[]> {
    if (!Array.isArray(options.entries)) throw new InvalidArgumentError('entries', 'must be an array');
    const values = options.entries.map((v, i) => toFrozenJson(v, `entries[${i}]`));
    const journal = this.#writable(options);
    const at = this.#now();
    const base = journal.log.length;
    const added = values.map((value, i) =>
      Object.freeze<SharedLogRecord>({ schemaVersion: 1, jobId: journal.jobId, scopeId: journal.scopeId, index: base + i, value, at }),
    );
    for (const record of added) journal.log.push(record);
    return added;
  }

  override async listSharedLog(options: JobRef & { fromIndex?: number | undefined; limit?: number | undefined }): Promise<readonly SharedLogRecord[]> {
    const fromIndex = options.fromIndex ?? 0;
    if (!Number.isInteger(fromIndex) || fromIndex < 0) throw new InvalidArgumentError('fromIndex', 'must be an integer ≥ 0');
    const limit = checkLimit(options.limit);
    const journal = this.#get(options);
    return journal ? journal.log.slice(fromIndex, fromIndex + limit) : [];
  }

  override async addDeferredEvents(options: JobRef & FencedWrite & { events: readonly DeferredEventInput[] }): Promise<void> {
    if (!Array.isArray(options.events)) throw new InvalidArgumentError('events', 'must be an array');
    const inputs = options.events.map((e, i) => {
      if (typeof e !== 'object' || e === null || !EVENT_TYPES.has(e.type)) throw new InvalidArgumentError(`events[${i}].type`, 'not a runtime event type');
      return { type: e.type, data: toFrozenJsonObject(e.data, `events[${i}].data`) };
    });
    const journal = this.#writable(options);
    const createdAt = this.#now();
    for (const e of inputs) {
      journal.deferred.push(Object.freeze<DeferredEvent>({ schemaVersion: 1, jobId: journal.jobId, scopeId: journal.scopeId, type: e.type, data: e.data, createdAt }));
    }
  }

  override async load(ref: JobRef): Promise<JournalLoad> {
    const [entries, head] = await Promise.all([this.list(ref), this.head(ref)]);
    return { entries, head, hasDeferredEvents: (this.#get(ref)?.deferred.length ?? 0) > 0 };
  }

  override async takeDeferredEvents(options: JobRef & FencedWrite): Promise<readonly DeferredEvent[]> {
    const journal = this.#get(options);
    this.#checkFence(journal, options.jobId, checkEpoch(options.leaseEpoch));
    if (!journal) return [];
    this.#raiseFence(journal, options.leaseEpoch);
    const taken = journal.deferred;
    journal.deferred = [];
    return taken;
  }

  override async delete(ref: JobRef): Promise<void> {
    this.#journals.delete(ref.scopeId, ref.jobId);
  }

  override async prune(options: JobRef & { beforeSeq: number }): Promise<number> {
    if (!Number.isInteger(options.beforeSeq) || options.beforeSeq < 0) throw new InvalidArgumentError('beforeSeq', 'must be an integer ≥ 0');
    const journal = this.#get(options);
    if (!journal) return 0;
    const count = Math.max(0, Math.min(options.beforeSeq, journal.nextSeq) - journal.firstSeq);
    if (count > 0) {
      journal.entries.splice(0, count);
      journal.firstSeq += count;
    }
    return count;
  }

  /**
   * Test hook: stores `raw` as the job's entry `seq` (an existing one, or the next) without
   * validation, as a damaged database row would be, so that tests can check that loading it
   * fails with `CorruptRecordError`.
   */
  plantRawForTesting(options: JobRef & { seq: number; raw: unknown }): void {
    const journal = this.#get(options) ?? this.#open(checkRef(options));
    const index = options.seq - journal.firstSeq;
    if (index < 0 || index > journal.entries.length) throw new InvalidArgumentError('seq', 'must be a stored seq or the next one');
    this.#planted.add(options.raw);
    journal.entries[index] = options.raw;
    if (index === journal.entries.length - 1 && options.seq === journal.nextSeq) journal.nextSeq++;
  }

  #get(ref: JobRef): JobJournal | undefined {
    return this.#journals.get(ref.scopeId, ref.jobId);
  }

  #open(ref: JobRef): JobJournal {
    const journal: JobJournal = {
      jobId: ref.jobId,
      scopeId: ref.scopeId,
      entries: [],
      firstSeq: 0,
      nextSeq: 0,
      fence: 0,
      shared: new Map(),
      sharedSnapshot: undefined,
      log: [],
      deferred: [],
    };
    this.#journals.set(ref.scopeId, ref.jobId, journal);
    return journal;
  }

  /** The job's journal for a fenced write (created when absent), after the fence check. */
  #writable(options: JobRef & FencedWrite): JobJournal {
    const ref = checkRef(options);
    const epoch = checkEpoch(options.leaseEpoch);
    const journal = this.#get(ref);
    this.#checkFence(journal, ref.jobId, epoch);
    const j = journal ?? this.#open(ref);
    this.#raiseFence(j, epoch);
    return j;
  }

  #checkFence(journal: JobJournal | undefined, jobId: string, epoch: number | undefined): void {
    if (epoch !== undefined && journal !== undefined && epoch < journal.fence) {
      throw new LeaseLostError({ jobId, leaseEpoch: epoch, currentEpoch: journal.fence, reason: 'a newer lease epoch has written to the journal' });
    }
  }

  #raiseFence(journal: JobJournal, epoch: number | undefined): void {
    if (epoch !== undefined && epoch > journal.fence) journal.fence = epoch;
  }

  #load(journal: JobJournal, index: number): JournalEntry {
    const row = journal.entries[index];
    if (this.#planted.size === 0 || !this.#planted.has(row)) return row as JournalEntry;
    const seq = journal.firstSeq + index;
    const entry = parseJournalEntry(row, { jobId: journal.jobId, scopeId: journal.scopeId, seq });
    if (entry.seq !== seq || entry.jobId !== journal.jobId || entry.scopeId !== journal.scopeId) {
      throw new CorruptRecordError({
        recordType: 'journal_entry',
        recordId: stepKey(journal.jobId, seq),
        jobId: journal.jobId,
        scopeId: journal.scopeId,
        schemaVersion: entry.schemaVersion,
        issue: `stored under seq ${seq} of job '${journal.jobId}' but names seq ${entry.seq} of job '${entry.jobId}'`,
      });
    }
    return entry;
  }
}

function checkRef(ref: JobRef): JobRef {
  if (typeof ref?.jobId !== 'string' || ref.jobId === '') throw new InvalidArgumentError('jobId', 'required');
  if (typeof ref.scopeId !== 'string' || ref.scopeId === '') throw new InvalidArgumentError('scopeId', 'required');
  return ref;
}

function checkEpoch(epoch: number | undefined): number | undefined {
  if (epoch !== undefined && (!Number.isInteger(epoch) || epoch < 0)) throw new InvalidArgumentError('leaseEpoch', 'must be an integer ≥ 0');
  return epoch;
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', 'must be a positive integer');
  return limit;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(`entry.${field}`, 'must be a string');
  return value;
}

/**
 * Checks an entry by hand (a zod parse would cost more than the whole append), refusing what
 * `JournalEntrySchema` refuses, and freezes a copy.
 */
function toEntry(input: JournalEntryInput, seq: number, leaseEpoch: number | undefined): JournalEntry {
  if (typeof input !== 'object' || input === null) throw new InvalidArgumentError('entry', 'expected a journal entry');
  const { jobId, scopeId, kind, name, status, startedAt, durationMs } = input;
  checkRef({ jobId, scopeId });
  if (!KINDS.has(kind)) throw new InvalidArgumentError('entry.kind', `must be one of ${JOURNAL_STEP_KINDS.join(', ')}`);
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('entry.name', 'required');
  if (status !== 'completed' && status !== 'failed') throw new InvalidArgumentError('entry.status', "must be 'completed' or 'failed'");
  if (!isTime(startedAt)) throw new InvalidArgumentError('entry.startedAt', 'must be epoch milliseconds');
  if (!isTime(durationMs)) throw new InvalidArgumentError('entry.durationMs', 'must be a number ≥ 0');
  const record: { -readonly [K in keyof JournalEntry]: JournalEntry[K] } = {
    schemaVersion: 1,
    jobId,
    scopeId,
    seq,
    key: stepKey(jobId, seq),
    kind,
    name,
    status,
    startedAt,
    durationMs,
  };
  const stepId = optionalString(input.stepId, 'stepId');
  if (stepId === '') throw new InvalidArgumentError('entry.stepId', 'must not be empty');
  if (stepId !== undefined) record.stepId = stepId;
  const inputHash = optionalString(input.inputHash, 'inputHash');
  if (inputHash !== undefined) record.inputHash = inputHash;
  const inputSummary = optionalString(input.inputSummary, 'inputSummary');
  if (inputSummary !== undefined) record.inputSummary = inputSummary;
  if (input.output !== undefined) record.output = toFrozenJson(input.output, 'entry.output');
  if (input.error !== undefined) record.error = toError(input.error);
  if (leaseEpoch !== undefined) record.leaseEpoch = leaseEpoch;
  return Object.freeze(record);
}

function toError(error: SerializedError): SerializedError {
  if (typeof error !== 'object' || error === null || typeof error.code !== 'string' || error.code === '' || typeof error.message !== 'string' || typeof error.retryable !== 'boolean') {
    throw new InvalidArgumentError('entry.error', 'expected { code, message, retryable }');
  }
  const name = optionalString(error.name, 'error.name');
  return Object.freeze(name === undefined ? { code: error.code, message: error.message, retryable: error.retryable } : { code: error.code, message: error.message, retryable: error.retryable, name });
}
