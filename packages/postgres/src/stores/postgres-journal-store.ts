import { InvalidArgumentError } from '@baton/llm-client';
import {
  CorruptRecordError,
  DeferredEventSchema,
  JournalConflictError,
  JournalEntrySchema,
  JournalStore,
  LeaseLostError,
  checkAppendBatch,
  RUNTIME_EVENT_TYPES,
  SharedLogRecordSchema,
  JsonValueSchema,
  parseJournalEntry,
  publishOutbox,
  stepKey,
  type AppendJournalOptions,
  type DeferredEvent,
  type DeferredEventInput,
  type FencedWrite,
  type JobRecord,
  type JournalJobUpdate,
  type JobRef,
  type JournalEntry,
  type JournalEntryInput,
  type JournalHead,
  type JournalLoad,
  type JsonObject,
  type JsonValue,
  type EventOutbox,
  type RuntimeEvent,
  type SharedLogRecord,
  type StoredRecordType,
} from '@baton/agent-runtime';
import type { PostgresConnectionOptions } from '../database.js';
import { outboxWriterFor, registerOutboxStore, runWithEvents, storeOnDatabase } from '../events/event-outbox.js';
import { PostgresJobQueue } from '../queue/postgres-job-queue.js';
import type { MigrationResult } from '../migrations/migrate.js';
import { checkJson, checkJsonObject } from '../sql/json-check.js';
import type { RecordSchema } from '../sql/validate-input.js';
import { validateInput } from '../sql/validate-input.js';
import { hasNul, jsonParam, mapValueError, num, parseJsonText } from '../sql/values.js';
import { StoreContext } from '../store-context.js';
import { journalSql, type JournalSql } from './journal-sql.js';
import { PostgresActionStore } from './postgres-action-store.js';
import { lockedJobSql, PostgresJobStore, type PriorWrite } from './postgres-job-store.js';

export interface PostgresJournalStoreOptions extends PostgresConnectionOptions {
  /** Epoch milliseconds for shared-log and deferred-event timestamps; injectable for tests. */
  now?: (() => number) | undefined;
}

const EVENT_TYPES: ReadonlySet<string> = new Set(RUNTIME_EVENT_TYPES);

/**
 * `JournalStore` on Postgres or PGlite. A job's head row (next seq, first seq, fence, shared-log
 * length) is the point every write of the job goes through: an append is one statement that
 * advances the head only when `expectedSeq` is its next seq and the lease epoch is not stale, and
 * inserts the entry only when it did. Of two concurrent appends of one seq the head's row lock
 * lets exactly one through. Entries are one row per step.
 *
 * With a `PostgresEventBus` on the same database, `appendWithEvents` stores the step's events in
 * the append's statement (seqs from the bus's `event_seqs`, notifications included), only when
 * the append passed: one round trip and one commit for the step. `appendMany` writes several
 * steps (and their events) the same way, in one statement.
 */
export class PostgresJournalStore extends JournalStore {
  private readonly ctx: StoreContext;
  private readonly sql: JournalSql;
  private readonly now: () => number;

  constructor(options: PostgresJournalStoreOptions) {
    super();
    this.ctx = new StoreContext(options);
    this.sql = journalSql(this.ctx.tables);
    this.now = options.now ?? Date.now;
    registerOutboxStore(this, this.ctx.database);
  }

  setup(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  migrate(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  async close(): Promise<void> {
    await this.ctx.close();
  }

  override async append(entry: JournalEntryInput, options: AppendJournalOptions): Promise<JournalEntry> {
    const append = prepareAppend(entry, options);
    const db = await this.ctx.sql();
    let written: number;
    try {
      const result = await db.query(append.expectedSeq === 0 ? this.sql.appendFirst : this.sql.appendNext, append.params, { prepare: true });
      written = result.rowCount;
    } catch (error) {
      throw mapValueError(error, 'entry');
    }
    if (written === 1) return append.record;
    throw await this.refused(append);
  }

  /**
   * With a bus on this database: one statement appends the entry and, only when the append
   * passed, stores the events and sends their notifications; they then reach this process's
   * subscribers in the job's order. A refused append (`JournalConflictError`, `LeaseLostError`)
   * stores no event. With another bus, or events of several jobs: append, then publish.
   */
  override async appendWithEvents(entry: JournalEntryInput, options: AppendJournalOptions, outbox: EventOutbox): Promise<{ entry: JournalEntry; events: RuntimeEvent[] }> {
    const writer = outboxWriterFor(this, outbox);
    if (writer === undefined) return super.appendWithEvents(entry, options, outbox);
    const append = prepareAppend(entry, options);
    const prepared = writer.prepare(outbox.events);
    if (prepared === undefined) return super.appendWithEvents(entry, options, outbox);
    const text = append.expectedSeq === 0 ? this.sql.appendFirstWithEvents : this.sql.appendNextWithEvents;
    const events = await runWithEvents(() => this.ctx.sql(), writer, prepared, text, append.params, (error) => mapValueError(error, hasNul(append.params[7]) ? 'entry' : 'event'));
    if (events === undefined) throw await this.refused(append);
    return { entry: append.record, events };
  }

  /**
   * One statement writes every entry (the head advances by their number only when `expectedSeq`
   * is its next seq and the fence allows it) and, with a bus on this database, the events, only
   * when the entries were written: all of it or nothing. With another bus, or events of several
   * jobs: the entries in one statement, then publish.
   */
  override async appendMany(entries: readonly JournalEntryInput[], options: AppendJournalOptions, outbox?: EventOutbox): Promise<{ entries: JournalEntry[]; events: RuntimeEvent[] }> {
    checkAppendBatch(entries, options);
    const batch = prepareBatch(entries, options);
    const writer = outboxWriterFor(this, outbox);
    const prepared = writer?.prepare(outbox!.events);
    const first = batch.expectedSeq === 0;
    if (writer === undefined || prepared === undefined) {
      const db = await this.ctx.sql();
      let written: number;
      try {
        written = (await db.query(first ? this.sql.appendManyFirst : this.sql.appendManyNext, batch.params, { prepare: true })).rowCount;
      } catch (error) {
        throw mapValueError(error, 'entries');
      }
      if (written !== batch.records.length) throw await this.refused(batch);
      return { entries: batch.records, events: await publishOutbox(outbox) };
    }
    const text = first ? this.sql.appendManyFirstWithEvents : this.sql.appendManyNextWithEvents;
    const events = await runWithEvents(() => this.ctx.sql(), writer, prepared, text, batch.params, (error) => mapValueError(error, hasNul(batch.params[5]) ? 'entries' : 'event'));
    if (events === undefined) throw await this.refused(batch);
    return { entries: batch.records, events };
  }

  /**
   * With a `PostgresJobStore` (and, for `ack`, a `PostgresJobQueue`; for `actions`, a
   * `PostgresActionStore`) on this database: one statement locks the job at the version its
   * update expects, then (acks the lease, when it holds, and) appends the entries, when the head
   * and the fence allow it, and only then writes the job's change, the actions it creates and the
   * outbox's events: a run's last steps with its completion and ack, or with its pause and the
   * pause's requests, in one write, all or nothing. `undefined` when it wrote nothing (the caller's separate writes say
   * why) or when the stores are elsewhere; bad input → `InvalidArgumentError`, nothing written.
   */
  override async appendManyWithJobUpdate(
    entries: readonly JournalEntryInput[],
    options: AppendJournalOptions,
    update: JournalJobUpdate,
  ): Promise<{ job: JobRecord; events: RuntimeEvent[] } | undefined> {
    const { store, job, ack, actions } = update;
    if (!(store instanceof PostgresJobStore) || !storeOnDatabase(store, this.ctx.database)) return undefined;
    if (ack && !(ack.queue instanceof PostgresJobQueue && ack.queue.sharesDatabaseWith(store))) return undefined;
    const creates = actions !== undefined && actions.records.length > 0;
    if (creates && !(actions.store instanceof PostgresActionStore && actions.store.sharesDatabaseWith(store))) return undefined;
    checkAppendBatch(entries, options);
    const batch = prepareBatch(entries, options);
    if (batch.ref.scopeId !== job?.scopeId || batch.ref.jobId !== job.id) throw new InvalidArgumentError('entries', "must be the updated job's entries");
    const acked = ack?.queue instanceof PostgresJobQueue ? ack.queue.ackWrite(ack.lease, job) : undefined;
    const created = creates && actions.store instanceof PostgresActionStore ? actions.store.createGated(actions.records) : undefined;
    const t = this.ctx.tables;
    const firstSeq = batch.expectedSeq === 0;
    const prior: PriorWrite = {
      // The job locked at the version its update expects: once the entries are in, its change follows.
      ctes: (first) =>
        acked
          ? `${lockedJobSql(t)}, ${acked.ctes(first, 'lj')}, ${this.sql.appendManyAfter(first + acked.params.length, 'ak', firstSeq)}`
          : `${lockedJobSql(t)}, ${this.sql.appendManyAfter(first, 'lj', firstSeq)}`,
      key: `journal:${firstSeq ? 'first' : 'next'}${acked ? ':ack' : ''}`,
      gate: 'jw',
      params: [...(acked?.params ?? []), ...batch.params],
      argument: 'entries',
    };
    return store.updateAfterWrite(job, update.outbox, prior, created);
  }

  /** The head and every entry, read by one statement (one snapshot). */
  override async load(ref: JobRef): Promise<JournalLoad> {
    const db = await this.ctx.sql();
    type Row = { next_seq: string | null; first_seq: string | null; lease_epoch: string | null; seq: string | null; record: string | null; has_deferred: boolean };
    const { rows } = await db.query<Row>(this.sql.load, [ref.scopeId, ref.jobId], { prepare: true });
    const first = rows[0];
    const entries = rows.filter((row) => row.seq !== null).map((row): [string, unknown] => [row.seq!, parseJsonText(row.record ?? '')]);
    return journalLoadOf(ref, first, entries, first?.has_deferred === true);
  }

  override async list(options: JobRef & { fromSeq?: number | undefined; limit?: number | undefined }): Promise<readonly JournalEntry[]> {
    const fromSeq = options.fromSeq ?? 0;
    if (!Number.isInteger(fromSeq) || fromSeq < 0) throw new InvalidArgumentError('fromSeq', 'must be an integer ≥ 0');
    const limit = checkLimit(options.limit);
    const db = await this.ctx.sql();
    const { rows } = await db.query<{ seq: string; record: string }>(this.sql.list, [options.scopeId, options.jobId, fromSeq, limit ?? null]);
    return rows.map((row) => loadEntry(options, num(row.seq), parseJsonText(row.record)));
  }

  override async head(ref: JobRef): Promise<JournalHead> {
    const db = await this.ctx.sql();
    const { rows } = await db.query<{ next_seq: string; first_seq: string; lease_epoch: string }>(this.sql.head, [ref.scopeId, ref.jobId]);
    const row = rows[0];
    if (!row) return { nextSeq: 0, firstSeq: 0, leaseEpoch: 0 };
    return { nextSeq: num(row.next_seq), firstSeq: num(row.first_seq), leaseEpoch: num(row.lease_epoch) };
  }

  override async fence(options: JobRef & { leaseEpoch: number }): Promise<void> {
    const epoch = checkEpoch(options.leaseEpoch);
    if (epoch === undefined) throw new InvalidArgumentError('leaseEpoch', 'required');
    await this.fenced(options, epoch, this.sql.fence, []);
  }

  override async setSharedData(options: JobRef & FencedWrite & { values: JsonObject }): Promise<void> {
    checkJsonObject(options.values, 'values');
    await this.fenced(options, checkEpoch(options.leaseEpoch), this.sql.setSharedData, [jsonParam(options.values)], 'values');
  }

  override async deleteSharedData(options: JobRef & FencedWrite & { keys: readonly string[] }): Promise<void> {
    if (!Array.isArray(options.keys) || options.keys.some((k) => typeof k !== 'string')) throw new InvalidArgumentError('keys', 'must be an array of strings');
    await this.fenced(options, checkEpoch(options.leaseEpoch), this.sql.deleteSharedData, [[...options.keys]]);
  }

  override async getSharedData(ref: JobRef): Promise<Readonly<JsonObject>> {
    const db = await this.ctx.sql();
    const { rows } = await db.query<{ key: string; value: string }>(this.sql.getSharedData, [ref.scopeId, ref.jobId]);
    const out: JsonObject = {};
    for (const row of rows) {
      out[row.key] = parseRecord(JsonValueSchema, parseJsonText(row.value), 'shared_data', `${ref.jobId}:${row.key}`, ref, false);
    }
    return out;
  }

  override async appendSharedLog(options: JobRef & FencedWrite & { entries: readonly JsonValue[] }): Promise<readonly SharedLogRecord[]> {
    if (!Array.isArray(options.entries)) throw new InvalidArgumentError('entries', 'must be an array');
    options.entries.forEach((v, i) => checkJson(v, `entries[${i}]`));
    const epoch = checkEpoch(options.leaseEpoch);
    const values = JSON.parse(jsonParam(options.entries)) as JsonValue[];
    const at = this.now();
    const rows = await this.fenced(options, epoch, this.sql.appendSharedLog, [values.length, jsonParam(values), at, Math.floor(at)], 'entries');
    const start = num((rows[0] as { start: string }).start);
    return values.map((value, i) => ({ schemaVersion: 1, jobId: options.jobId, scopeId: options.scopeId, index: start + i, value, at }));
  }

  override async listSharedLog(options: JobRef & { fromIndex?: number | undefined; limit?: number | undefined }): Promise<readonly SharedLogRecord[]> {
    const fromIndex = options.fromIndex ?? 0;
    if (!Number.isInteger(fromIndex) || fromIndex < 0) throw new InvalidArgumentError('fromIndex', 'must be an integer ≥ 0');
    const limit = checkLimit(options.limit);
    const db = await this.ctx.sql();
    const { rows } = await db.query<{ idx: string; record: string }>(this.sql.listSharedLog, [options.scopeId, options.jobId, fromIndex, limit ?? null]);
    return rows.map((row) => parseRecord(SharedLogRecordSchema, parseJsonText(row.record), 'shared_log', `${options.jobId}#${row.idx}`, options) as SharedLogRecord);
  }

  override async addDeferredEvents(options: JobRef & FencedWrite & { events: readonly DeferredEventInput[] }): Promise<void> {
    if (!Array.isArray(options.events)) throw new InvalidArgumentError('events', 'must be an array');
    const createdAt = this.now();
    const records = options.events.map((e, i): DeferredEvent => {
      if (typeof e !== 'object' || e === null || !EVENT_TYPES.has(e.type)) throw new InvalidArgumentError(`events[${i}].type`, 'not a runtime event type');
      checkJsonObject(e.data, `events[${i}].data`);
      return { schemaVersion: 1, jobId: options.jobId, scopeId: options.scopeId, type: e.type, data: e.data, createdAt };
    });
    await this.fenced(options, checkEpoch(options.leaseEpoch), this.sql.addDeferredEvents, [Math.floor(createdAt), jsonParam(records)], 'events');
  }

  override async takeDeferredEvents(options: JobRef & FencedWrite): Promise<readonly DeferredEvent[]> {
    const rows = await this.fenced(options, checkEpoch(options.leaseEpoch), this.sql.takeDeferredEvents, []);
    const events = parseJsonText((rows[0] as { events: string }).events);
    if (!Array.isArray(events)) return [];
    return events.map((raw, i) => parseRecord(DeferredEventSchema, raw, 'deferred_event', `${options.jobId}#deferred-${i}`, options) as DeferredEvent);
  }

  override async delete(ref: JobRef): Promise<void> {
    const db = await this.ctx.sql();
    await db.query(this.sql.delete, [ref.scopeId, ref.jobId]);
  }

  override async prune(options: JobRef & { beforeSeq: number }): Promise<number> {
    if (!Number.isInteger(options.beforeSeq) || options.beforeSeq < 0) throw new InvalidArgumentError('beforeSeq', 'must be an integer ≥ 0');
    const db = await this.ctx.sql();
    const { rows } = await db.query<{ pruned: number }>(this.sql.prune, [options.scopeId, options.jobId, options.beforeSeq]);
    return num(rows[0]?.pruned ?? 0);
  }

  /** Why an append wrote nothing: a stale lease epoch, or another seq than the head's next. */
  private async refused(append: { readonly ref: JobRef; readonly epoch: number | undefined; readonly expectedSeq: number }): Promise<LeaseLostError | JournalConflictError> {
    const { ref, epoch, expectedSeq } = append;
    const head = await this.head(ref);
    if (epoch !== undefined && epoch < head.leaseEpoch) return leaseLost(ref.jobId, epoch, head.leaseEpoch);
    return new JournalConflictError({ jobId: ref.jobId, expectedSeq, nextSeq: head.nextSeq });
  }

  /** Runs a fenced statement (`$1` scope, `$2` job, `$3` epoch, then `params`); a stale epoch → `LeaseLostError`. */
  private async fenced(ref: JobRef, epoch: number | undefined, text: string, params: unknown[], argument = 'options'): Promise<Record<string, unknown>[]> {
    if (typeof ref.jobId !== 'string' || ref.jobId === '') throw new InvalidArgumentError('jobId', 'required');
    if (typeof ref.scopeId !== 'string' || ref.scopeId === '') throw new InvalidArgumentError('scopeId', 'required');
    const db = await this.ctx.sql();
    let rows: Record<string, unknown>[];
    try {
      rows = (await db.query(text, [ref.scopeId, ref.jobId, epoch ?? null, ...params])).rows;
    } catch (error) {
      throw mapValueError(error, argument);
    }
    const first = rows[0] as { fenced?: number; start?: string } | undefined;
    const passed = first !== undefined && (first.fenced === undefined ? first.start !== undefined : num(first.fenced) > 0);
    if (!passed && epoch !== undefined) {
      const head = await this.head(ref);
      throw leaseLost(ref.jobId, epoch, head.leaseEpoch);
    }
    return rows;
  }
}

interface PreparedAppend {
  readonly record: JournalEntry;
  /** The job (the record's scope and id). */
  readonly ref: JobRef;
  readonly epoch: number | undefined;
  readonly expectedSeq: number;
  /** `$1`…`$8` of the append statements. */
  readonly params: unknown[];
}

interface PreparedBatch {
  readonly records: JournalEntry[];
  readonly ref: JobRef;
  readonly epoch: number | undefined;
  readonly expectedSeq: number;
  /** `$1`…`$6` of the batch append statements. */
  readonly params: unknown[];
}

/** Validates an append's entry and options (`InvalidArgumentError`) and builds the stored entry. */
function prepareAppend(entry: JournalEntryInput, options: AppendJournalOptions): PreparedAppend {
  const expectedSeq = options?.expectedSeq;
  if (!Number.isInteger(expectedSeq) || expectedSeq < 0) throw new InvalidArgumentError('expectedSeq', 'must be an integer ≥ 0');
  const epoch = checkEpoch(options.leaseEpoch);
  if (typeof entry !== 'object' || entry === null) throw new InvalidArgumentError('entry', 'expected a journal entry');
  if (entry.output !== undefined) checkJson(entry.output, 'entry.output');
  const record = validateInput(
    JournalEntrySchema,
    { ...entry, schemaVersion: 1, seq: expectedSeq, key: stepKey(entry.jobId, expectedSeq), ...(epoch !== undefined ? { leaseEpoch: epoch } : {}) },
    'entry',
  ) as JournalEntry;
  const params = [record.scopeId, record.jobId, epoch ?? null, expectedSeq, record.kind, record.name, record.status, jsonParam(record)];
  return { record, ref: { scopeId: record.scopeId, jobId: record.jobId }, epoch, expectedSeq, params };
}

/** Validates every entry of a batch as `prepareAppend` does one (`entries[0]` gets `expectedSeq`), before anything is written. */
function prepareBatch(entries: readonly JournalEntryInput[], options: AppendJournalOptions): PreparedBatch {
  const records = entries.map((entry, i) => prepareAppend(entry, { ...options, expectedSeq: options.expectedSeq + i }).record);
  const { scopeId, jobId } = records[0]!;
  const epoch = checkEpoch(options.leaseEpoch);
  const params = [scopeId, jobId, epoch ?? null, options.expectedSeq, records.length, jsonParam(records)];
  return { records, ref: { scopeId, jobId }, epoch, expectedSeq: options.expectedSeq, params };
}

function leaseLost(jobId: string, leaseEpoch: number, currentEpoch: number): LeaseLostError {
  return new LeaseLostError({ jobId, leaseEpoch, currentEpoch, reason: 'a newer lease epoch has written to the journal' });
}

function checkEpoch(epoch: number | undefined): number | undefined {
  if (epoch !== undefined && (!Number.isInteger(epoch) || epoch < 0)) throw new InvalidArgumentError('leaseEpoch', 'must be an integer ≥ 0');
  return epoch;
}

function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', 'must be a positive integer');
  return limit;
}

/** Parses a stored entry with the runtime's parser; one stored under another seq or job is corrupt too. */
function loadEntry(ref: JobRef, seq: number, raw: unknown): JournalEntry {
  const entry = parseJournalEntry(raw, { jobId: ref.jobId, scopeId: ref.scopeId, seq });
  if (entry.seq !== seq || entry.jobId !== ref.jobId || entry.scopeId !== ref.scopeId) {
    throw new CorruptRecordError({
      recordType: 'journal_entry',
      recordId: stepKey(ref.jobId, seq),
      jobId: ref.jobId,
      scopeId: ref.scopeId,
      schemaVersion: entry.schemaVersion,
      issue: `stored under seq ${seq} of job '${ref.jobId}' but names seq ${entry.seq} of job '${entry.jobId}'`,
    });
  }
  return entry;
}

/**
 * Internal to this package: a `JournalLoad` from a job's head row (its columns as text, absent
 * when the job has none), its entries as `[seq, parsed record]` in seq order, and whether it has
 * deferred events — what `load` reads, and what another store's read of the same tables returns.
 */
export function journalLoadOf(
  ref: JobRef,
  head: { next_seq: string | null; first_seq: string | null; lease_epoch: string | null } | undefined,
  entries: ReadonlyArray<readonly [string | number, unknown]>,
  hasDeferredEvents: boolean,
): JournalLoad {
  const journalHead: JournalHead =
    head?.next_seq == null ? { nextSeq: 0, firstSeq: 0, leaseEpoch: 0 } : { nextSeq: num(head.next_seq), firstSeq: num(head.first_seq), leaseEpoch: num(head.lease_epoch) };
  return { entries: entries.map(([seq, raw]) => loadEntry(ref, num(seq), raw)), head: journalHead, hasDeferredEvents };
}

/** Validates a stored shared datum, log record or deferred event; one that does not parse → `CorruptRecordError`. */
function parseRecord<T>(schema: RecordSchema<T>, raw: unknown, recordType: StoredRecordType, recordId: string, ref: JobRef, versioned = true): T {
  const claimed = typeof raw === 'object' && raw !== null ? (raw as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (versioned && claimed !== 1) {
    throw new CorruptRecordError({ recordType, recordId, jobId: ref.jobId, scopeId: ref.scopeId, schemaVersion: claimed, issue: `unknown schema version ${JSON.stringify(claimed) ?? 'undefined'} (this code reads version 1)` });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const issue = first ? `${first.path.length ? first.path.map(String).join('.') : '(root)'}: ${first.message}` : 'invalid';
    throw new CorruptRecordError({ recordType, recordId, jobId: ref.jobId, scopeId: ref.scopeId, schemaVersion: claimed, issue, cause: parsed.error });
  }
  return parsed.data;
}
