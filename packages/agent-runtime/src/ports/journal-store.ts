import { InvalidArgumentError } from '@baton/llm-client';
import type { JobRecord, JobRef } from '../jobs/job-record.js';
import type { ActionRecord, ActionStore } from './action-store.js';
import type { JobQueue, LeaseRef } from './job-queue.js';
import type { JobStore } from './job-store.js';
import type { JsonObject, JsonValue } from '../jobs/json-value.js';
import { JOURNAL_ENTRY_SCHEMA_VERSION, JournalEntrySchema, stepKey, type JournalEntry, type JournalEntryInput } from '../journal/journal-entry.js';
import type { RuntimeEvent } from '../events/runtime-event.js';
import { publishOutbox, type EventOutbox } from './event-bus.js';
import type { DeferredEvent, DeferredEventInput, SharedLogRecord } from '../journal/journal-records.js';

/**
 * Fencing for writes made under a worker's lease. When `leaseEpoch` is given, a write whose
 * epoch is lower than the highest epoch the store has seen for the job fails with
 * `LeaseLostError` and changes nothing; a higher one raises the job's fence. Writes without an
 * epoch (a single process, no queue) are not fenced.
 */
export interface FencedWrite {
  readonly leaseEpoch?: number | undefined;
}

export interface AppendJournalOptions extends FencedWrite {
  /** The seq the writer believes is next. Anything else → `JournalConflictError`. */
  readonly expectedSeq: number;
}

/** Where a job's journal stands. */
export interface JournalHead {
  /** The seq the next append must carry (0 for an empty journal). */
  readonly nextSeq: number;
  /** The lowest seq still stored (`nextSeq` when none is; larger than 0 after `prune`). */
  readonly firstSeq: number;
  /** The job's fence: the highest lease epoch seen, 0 when none. */
  readonly leaseEpoch: number;
}

/** What `JournalStore.load` returns. */
export interface JournalLoad {
  readonly entries: readonly JournalEntry[];
  readonly head: JournalHead;
  readonly hasDeferredEvents?: boolean | undefined;
}

/** The job's change that `JournalStore.appendManyWithJobUpdate` writes with the entries. */
export interface JournalJobUpdate {
  readonly store: JobStore;
  readonly job: JobRecord;
  readonly outbox?: EventOutbox | undefined;
  /** A worker's lease, acked with the change (`JobQueue.ackWithJobUpdate`). */
  readonly ack?: { readonly queue: JobQueue; readonly lease: LeaseRef } | undefined;
  /** Actions created with the change (`ActionStore.createWithJobUpdate`). */
  readonly actions?: { readonly store: ActionStore; readonly records: readonly ActionRecord[] } | undefined;
}

/**
 * A job's journal (its checkpoint: one entry per finished step), its shared data (key-value),
 * its shared log (append-only) and its deferred events. Every method is scoped: another
 * scope's job behaves as an empty one. Loaded records are validated (`CorruptRecordError`).
 * Returned records are immutable.
 *
 * An abstract class so that methods added later can ship with a default implementation.
 */
export abstract class JournalStore {
  /**
   * Appends the job's next step, only if `expectedSeq` is the job's next seq: a duplicate or
   * out-of-order append → `JournalConflictError`, a stale lease epoch → `LeaseLostError`;
   * either way nothing is written. Returns the stored entry (`seq`, `key` filled in).
   */
  abstract append(entry: JournalEntryInput, options: AppendJournalOptions): Promise<JournalEntry>;

  /**
   * `append`, with events that go with the entry (the step's `step.completed`, what was emitted
   * while it ran): a store that shares transactions with the bus writes entry and events in one
   * (a refused append publishes nothing); the default appends, then publishes.
   */
  async appendWithEvents(entry: JournalEntryInput, options: AppendJournalOptions, outbox: EventOutbox): Promise<{ entry: JournalEntry; events: RuntimeEvent[] }> {
    const stored = await this.append(entry, options);
    return { entry: stored, events: await publishOutbox(outbox) };
  }

  /**
   * Appends consecutive steps of one job: `entries[i]` gets seq `expectedSeq + i`, under the rules
   * of `append` (a first seq that is not the job's next → `JournalConflictError`, a stale lease
   * epoch → `LeaseLostError`, an invalid entry → `InvalidArgumentError`). The outbox's events go
   * with the entries, as `appendWithEvents` sends them with one. Returns the stored entries in
   * order and the published events.
   *
   * A store that shares transactions writes every entry (and the events) in one write, all or
   * nothing: a refused or invalid entry anywhere changes nothing.
   *
   * The default checks the whole batch before writing anything: a non-empty array of one job's
   * steps, `expectedSeq` and `leaseEpoch`, and every entry as it would be stored against
   * `JournalEntrySchema` (the schema every store reads entries back with), so an invalid entry
   * anywhere is an `InvalidArgumentError` (naming the field; the message names its index) and
   * nothing is written. It then appends the entries one by one in order, the last one with the
   * events through `appendWithEvents`; a first seq that is not the job's next, or a stale lease
   * epoch, is refused by the first append, before anything is written. Only a failure part-way
   * leaves the entries before it stored (a prefix, then that failure's error): the store failing
   * (connection lost, or an entry its own `append` refuses beyond the schema), or a concurrent
   * writer taking a seq or raising the fence between two appends. With a bus that does not share
   * the store's transactions, the events are published after the entries are stored. A store
   * that can write a batch at once overrides this.
   */
  async appendMany(entries: readonly JournalEntryInput[], options: AppendJournalOptions, outbox?: EventOutbox): Promise<{ entries: JournalEntry[]; events: RuntimeEvent[] }> {
    checkAppendBatch(entries, options);
    const { expectedSeq, leaseEpoch } = options;
    if (leaseEpoch !== undefined && (!Number.isInteger(leaseEpoch) || leaseEpoch < 0)) throw new InvalidArgumentError('leaseEpoch', 'must be an integer ≥ 0');
    entries.forEach((entry, i) => {
      const seq = expectedSeq + i;
      const parsed = JournalEntrySchema.safeParse({ ...entry, schemaVersion: JOURNAL_ENTRY_SCHEMA_VERSION, seq, key: stepKey(entry.jobId, seq), leaseEpoch });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = issue?.path.length ? `entry.${issue.path.map(String).join('.')}` : 'entry';
        throw new InvalidArgumentError(path, `${issue?.message ?? 'not a journal entry'} (entries[${i}]; nothing was written)`, parsed.error);
      }
    });
    const stored: JournalEntry[] = [];
    const last = entries.length - 1;
    for (let i = 0; i < last; i++) stored.push(await this.append(entries[i]!, { ...options, expectedSeq: expectedSeq + i }));
    const lastOptions = { ...options, expectedSeq: expectedSeq + last };
    if (outbox === undefined || outbox.events.length === 0) {
      stored.push(await this.append(entries[last]!, lastOptions));
      return { entries: stored, events: [] };
    }
    const { entry, events } = await this.appendWithEvents(entries[last]!, lastOptions, outbox);
    stored.push(entry);
    return { entries: stored, events };
  }

  /**
   * Appends `entries` (as `appendMany`) and writes the job's change `update.job` (as
   * `JobStore.updateWithEvents`; with `update.ack` as `JobQueue.ackWithJobUpdate`, with
   * `update.actions` as `ActionStore.createWithJobUpdate`) in one write, the outbox's events with
   * them: a run's last steps stored with its completion or its pause. All of it or nothing: the
   * entries only if the job is written (its lease acked, its actions created), the job only if
   * the entries are.
   *
   * Only a store that shares transactions with the job store (and the queue) can; the default,
   * and any call this store cannot write at once, returns `undefined` having written nothing,
   * and the caller appends, then writes the job. `undefined` also when the one write did not
   * pass (a refused append, a job changed meanwhile, a lease lost): the caller's separate writes
   * then report which, as they would have without this method. Bad input → `InvalidArgumentError`,
   * nothing written.
   */
  async appendManyWithJobUpdate(
    _entries: readonly JournalEntryInput[],
    _options: AppendJournalOptions,
    _update: JournalJobUpdate,
  ): Promise<{ job: JobRecord; events: RuntimeEvent[] } | undefined> {
    return undefined;
  }

  /**
   * Every entry of the job and its head, as one run starts (durable stores read both at once).
   * `hasDeferredEvents: false` says no deferred events wait, so the run need not take them;
   * absent, it is unknown.
   */
  async load(ref: JobRef): Promise<JournalLoad> {
    const [entries, head] = await Promise.all([this.list(ref), this.head(ref)]);
    return { entries, head };
  }

  /** The job's entries in seq order, from `fromSeq` (default 0), at most `limit`. */
  abstract list(options: JobRef & { fromSeq?: number | undefined; limit?: number | undefined }): Promise<readonly JournalEntry[]>;

  abstract head(ref: JobRef): Promise<JournalHead>;

  /**
   * Raises the job's fence to `leaseEpoch` (a worker taking a job over calls it before its
   * first write, so a previous holder's late write is refused). A lower epoch than the fence →
   * `LeaseLostError`.
   */
  abstract fence(options: JobRef & { leaseEpoch: number }): Promise<void>;

  /** Merges `values` into the job's shared data (a key set again is replaced). */
  abstract setSharedData(options: JobRef & FencedWrite & { values: JsonObject }): Promise<void>;

  abstract deleteSharedData(options: JobRef & FencedWrite & { keys: readonly string[] }): Promise<void>;

  /** The job's shared data (`{}` when none). */
  abstract getSharedData(ref: JobRef): Promise<Readonly<JsonObject>>;

  /** Appends to the job's shared log; returns the stored records (dense `index` from 0). */
  abstract appendSharedLog(options: JobRef & FencedWrite & { entries: readonly JsonValue[] }): Promise<readonly SharedLogRecord[]>;

  abstract listSharedLog(options: JobRef & { fromIndex?: number | undefined; limit?: number | undefined }): Promise<readonly SharedLogRecord[]>;

  /** Stores events to publish when the job resumes. */
  abstract addDeferredEvents(options: JobRef & FencedWrite & { events: readonly DeferredEventInput[] }): Promise<void>;

  /**
   * Returns the job's deferred events in the order they were added and clears them, atomically:
   * of two concurrent takers, one gets the events and the other none.
   */
  abstract takeDeferredEvents(options: JobRef & FencedWrite): Promise<readonly DeferredEvent[]>;

  /** Removes every entry, shared datum, log record and deferred event of the job, and its fence. */
  abstract delete(ref: JobRef): Promise<void>;

  /**
   * Removes the entries below `beforeSeq` (compaction once their effects live elsewhere, e.g. in
   * the job's result). Seqs are not renumbered: `head().nextSeq` is unchanged. Returns how many
   * entries were removed.
   */
  abstract prune(options: JobRef & { beforeSeq: number }): Promise<number>;
}

/**
 * Checks what `appendMany` takes before anything is written: a non-empty array of entries, all of
 * the first one's job, and an integer `expectedSeq` ≥ 0 (`InvalidArgumentError` naming the
 * culprit). Each entry's own fields are the store's to validate, as `append` does.
 */
export function checkAppendBatch(entries: readonly JournalEntryInput[], options: AppendJournalOptions): void {
  if (!Array.isArray(entries) || entries.length === 0) throw new InvalidArgumentError('entries', 'must be a non-empty array of journal entries');
  const expectedSeq = options?.expectedSeq;
  if (!Number.isInteger(expectedSeq) || expectedSeq < 0) throw new InvalidArgumentError('expectedSeq', 'must be an integer ≥ 0');
  const first: unknown = entries[0];
  entries.forEach((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) throw new InvalidArgumentError(`entries[${i}]`, 'expected a journal entry');
    const { jobId, scopeId } = entry as JobRef;
    if (jobId !== (first as JobRef).jobId || scopeId !== (first as JobRef).scopeId) {
      throw new InvalidArgumentError(`entries[${i}]`, "must be a step of the first entry's job (same jobId and scopeId)");
    }
  });
}
