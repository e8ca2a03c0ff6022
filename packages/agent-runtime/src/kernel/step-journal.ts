import { hash } from 'node:crypto';
import { InvalidArgumentError } from '@baton/llm-client';
import { ReplayDivergenceError, StepOutputError } from '../errors/kernel-errors.js';
import type { JobRef } from '../jobs/job-record.js';
import { toFrozenJson, type JsonValue } from '../jobs/json-value.js';
import { serializeError, type SerializedError } from '../jobs/serialized-error.js';
import { stepKey, type JournalEntry, type JournalEntryInput, type JournalStepKind } from '../journal/journal-entry.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import type { EventOutbox } from '../ports/event-bus.js';
import type { AppendJournalOptions, JournalLoad, JournalStore } from '../ports/journal-store.js';
import type { EventEmitterChain } from './event-chain.js';

/** What a replayed step found in the journal. */
export type RecordedStep =
  | { status: 'completed'; output: JsonValue | undefined; entry: JournalEntry }
  | { status: 'failed'; error: SerializedError; entry: JournalEntry };

export interface StepRecord {
  stepId: string;
  kind: JournalStepKind;
  name: string;
  input?: unknown;
  inputSummary?: string | undefined;
  startedAt: number;
  durationMs: number;
  output?: unknown;
  error?: unknown;
}

/** A step taken by `recordLater` or `defer`: its place (seq) is set, its write rides on the next one. */
interface Unwritten {
  readonly input: JournalEntryInput;
  readonly entry: JournalEntry;
  /** Taken by `defer` (its outcome is durable nowhere else). */
  readonly deferred?: boolean;
}

/**
 * A job's journal as one run sees it: the entries written by earlier runs, looked up by their
 * logical step id, and the appends of this run, written one at a time in order (so concurrent
 * steps never race for a seq) under the run's lease epoch.
 *
 * A step whose outcome is durable elsewhere (an answered action: the action store holds the
 * answer, and a run that does not find the step here reads it there again) is taken by
 * `recordLater`: it gets its place in the order at once and is written with the run's next
 * append (`JournalStore.appendMany`, one write for both), or by `flush()` when none follows.
 *
 * Step ids are logical positions in the job's code: `"3"` for the fourth top-level step,
 * `"3.2"` for the call with index 2 inside the agent run that step 3 started. They do not
 * depend on the order in which concurrent steps finish, so a replay finds every finished step
 * whatever order it was written in.
 */
export class StepJournal {
  private readonly recorded = new Map<string, JournalEntry>();
  /** The seq of the next step to take its place: after every stored and every unwritten entry. */
  private nextSeq: number;
  private chain: Promise<unknown> = Promise.resolve();
  /** Steps recorded later whose turn came, in seq order: the next write stores them first. */
  private unwritten: Unwritten[] = [];
  /** Steps (appended or recorded later) on the chain that have not finished: a step recorded later now comes after them. */
  private pending = 0;
  /** Steps taken by `defer` that are not stored yet. */
  private deferred = 0;
  private flushScheduled = false;
  /** No step is recorded any more (the run's last write is under way); entries taken may still be written. */
  private sealed = false;
  private closed = false;
  /** Entries appended by this run, in order. */
  readonly appended: JournalEntry[] = [];

  constructor(
    private readonly store: JournalStore,
    private readonly ref: JobRef,
    entries: readonly JournalEntry[],
    nextSeq: number,
    private readonly leaseEpoch: number | undefined,
    /** The job's events: when they ride on journal writes, each append carries those queued. */
    private readonly events?: EventEmitterChain | undefined,
  ) {
    for (const e of entries) this.recorded.set(e.stepId ?? String(e.seq), e);
    this.nextSeq = nextSeq;
  }

  static async load(store: JournalStore, ref: JobRef, leaseEpoch?: number, events?: EventEmitterChain): Promise<StepJournal> {
    return StepJournal.from(store, ref, await store.load(ref), leaseEpoch, events);
  }

  /** The journal of a run from what `JournalStore.load` read. */
  static from(store: JournalStore, ref: JobRef, loaded: JournalLoad, leaseEpoch?: number, events?: EventEmitterChain): StepJournal {
    return new StepJournal(store, ref, loaded.entries, loaded.head.nextSeq, leaseEpoch, events);
  }

  /** The journal of a job that has never run (just created here): nothing to read. */
  static empty(store: JournalStore, ref: JobRef, leaseEpoch?: number, events?: EventEmitterChain): StepJournal {
    return new StepJournal(store, ref, [], 0, leaseEpoch, events);
  }

  /**
   * Whether a finished step may be stored with the run's next write (`defer`): where the job's
   * events ride on journal writes, so that a step's events are stored exactly when it is.
   */
  get defers(): boolean {
    return this.events?.carriesEvents === true;
  }

  get size(): number {
    return this.recorded.size;
  }

  /** Every entry, earlier runs' and this run's (those recorded later included), by step id. */
  entries(): JournalEntry[] {
    return [...this.recorded.values()].sort((a, b) => a.seq - b.seq);
  }

  /**
   * The recorded outcome of `stepId`, checked against what the code asks for now: another kind,
   * name or input is a `ReplayDivergenceError` naming both sides.
   */
  lookup(stepId: string, kind: JournalStepKind, name: string, input?: unknown): RecordedStep | undefined {
    const entry = this.recorded.get(stepId);
    if (entry === undefined) return undefined;
    if (entry.kind !== kind || entry.name !== name) {
      throw new ReplayDivergenceError(this.ref.jobId, stepId, `${entry.kind} '${entry.name}'`, `${kind} '${name}'`);
    }
    if (input !== undefined && entry.inputHash !== undefined) {
      const hash = hashInput(input);
      if (hash !== entry.inputHash) {
        throw new ReplayDivergenceError(this.ref.jobId, stepId, `${kind} '${name}' with input ${entry.inputHash.slice(0, 12)}`, `the same step with input ${hash.slice(0, 12)}`);
      }
    }
    if (entry.status === 'failed') return { status: 'failed', error: entry.error ?? { code: 'error', message: 'step failed', retryable: false }, entry };
    return { status: 'completed', output: entry.output, entry };
  }

  /**
   * Appends a finished step after every earlier append of this run; resolves once stored.
   * Steps recorded later before it are written with it, in one write. `then(seq)` gives the
   * events that announce the stored step (`step.completed`): they are written with the entry
   * when the job's events ride on journal writes, else emitted after it. A failed write leaves
   * the steps recorded later unwritten, for the next write.
   */
  record(step: StepRecord, then?: (seq: number) => readonly RuntimeEventInput[]): Promise<JournalEntry> {
    let input: JournalEntryInput;
    try {
      input = this.toInput(step);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(async () => {
      const seq = this.nextSeq;
      const stored = await this.write([...this.unwritten.map((u) => u.input), input], then === undefined ? undefined : () => then(seq));
      return stored[stored.length - 1]!;
    });
  }

  /**
   * Records a finished step whose outcome is durable elsewhere (an answered action) without
   * writing it now. It is visible at once to `lookup` and `entries()`, takes its place after
   * every earlier append of this run (the seq it would have had), and is written with the next
   * append, or by `flush()`. Until then a crash loses only this entry: the next run does not find
   * the step and reads its outcome where it is durable.
   */
  recordLater(step: StepRecord): void {
    this.takePlace(step, false);
  }

  /**
   * Records a finished step to be stored with the run's next write rather than by a write of its
   * own: the next step's (which waits for it, see `settle`), or the run's last (its completion or
   * pause), or, when the run does neither before its code awaits something else, a write of its
   * own a moment later (`setImmediate`). A job that returns right after its last step thus stores
   * that step with its completion, in one write. Until it is stored a crash loses the step, as it
   * would during its own write: the next run executes it again. Returns the seq it takes (for its
   * `step.completed` event, which the caller queues on the job's events, stored with it).
   */
  defer(step: StepRecord): number {
    const seq = this.takePlace(step, true);
    this.deferred++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        // A failed write leaves them unwritten: the next write (or `settle`) tries again and reports it.
        if (this.deferred > 0) this.flush().catch(() => undefined);
      });
    }
    return seq;
  }

  /**
   * Makes `step` visible at once (`lookup`, `entries()`) at the seq it gets if the steps before
   * it on the chain are stored, and puts it on the unwritten list when its turn comes (its seq
   * then set), for the next write to store first. Returns that seq.
   */
  private takePlace(step: StepRecord, deferred: boolean): number {
    const input = this.toInput(step);
    const seq = this.nextSeq + this.pending;
    const visible = unwrittenEntry(input, seq, this.leaseEpoch);
    this.recorded.set(step.stepId, visible);
    void this.enqueue(async () => {
      // The seq it was shown at, unless a write before it on the chain failed.
      const entry = this.nextSeq === seq ? visible : unwrittenEntry(input, this.nextSeq, this.leaseEpoch);
      this.unwritten.push({ input, entry, deferred });
      this.recorded.set(step.stepId, entry);
      this.nextSeq++;
      return entry;
    }).catch(() => undefined);
    return seq;
  }

  /** Whether steps taken by `defer` are not stored yet (`settle` has work to do). */
  get unsettled(): boolean {
    return this.deferred > 0;
  }

  /** Resolves once every step taken by `defer` so far is stored (writing them now); rejects when that write fails. */
  async settle(): Promise<void> {
    if (this.deferred > 0) await this.flush();
  }

  /**
   * The run's last write: runs `write` after every pending append, handing it the entries not
   * stored yet (steps deferred or recorded later) and where they go, or `undefined` when there
   * are none; they count as stored once it resolves (it must store them, with the job's change).
   * No step is recorded after this call; when `write` fails the entries stay unwritten, for
   * `flush()`.
   */
  writeLast<T>(write: (pending: { entries: readonly JournalEntryInput[]; options: AppendJournalOptions } | undefined) => Promise<T>): Promise<T> {
    this.sealed = true;
    return this.enqueue(async () => {
      const taken = this.unwritten;
      if (taken.length === 0 || this.closed) return write(undefined);
      const result = await write({ entries: taken.map((u) => u.input), options: { expectedSeq: taken[0]!.entry.seq, leaseEpoch: this.leaseEpoch } });
      this.stored(taken.map((u) => u.entry));
      return result;
    }, false);
  }

  /**
   * Waits for every pending append, then writes the steps recorded later or deferred that no
   * append carried (rejects when that write fails; they stay unwritten). A closed journal writes
   * nothing more.
   */
  async flush(): Promise<void> {
    await this.enqueue(async () => {
      if (this.unwritten.length === 0 || this.closed) return;
      await this.write(this.unwritten.map((u) => u.input), undefined);
    }, false);
  }

  /** Refuses further appends (the run ended, was cancelled or lost its lease). */
  close(): void {
    this.closed = true;
  }

  /** The entry to append for `step`; throws when the journal is closed or the output is not JSON. */
  private toInput(step: StepRecord): JournalEntryInput {
    if (this.closed || this.sealed) throw new InvalidArgumentError('journal', `job ${this.ref.jobId} is no longer running here; step ${step.stepId} was not recorded`);
    let output: JsonValue | undefined;
    if (step.output !== undefined) {
      try {
        output = toFrozenJson(step.output, 'output');
      } catch (e) {
        throw new StepOutputError(this.ref.jobId, step.stepId, e instanceof Error ? e.message : String(e));
      }
    }
    return {
      jobId: this.ref.jobId,
      scopeId: this.ref.scopeId,
      stepId: step.stepId,
      kind: step.kind,
      name: step.name,
      status: step.error === undefined ? 'completed' : 'failed',
      inputHash: step.input === undefined ? undefined : hashInput(step.input),
      inputSummary: step.inputSummary,
      output,
      error: step.error === undefined ? undefined : serializeError(step.error),
      startedAt: step.startedAt,
      durationMs: step.durationMs,
    };
  }

  /** Runs `task` after every earlier one on the chain (a failed one does not stop the next); `step`: it takes a seq. */
  private enqueue<T>(task: () => Promise<T>, step = true): Promise<T> {
    if (step) this.pending++;
    const run = this.chain.then(task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.chain = step ? settled.then(() => void this.pending--) : settled;
    return run;
  }

  /**
   * Stores `batch` (the unwritten steps, then at most one new one) from the first unwritten seq,
   * with the job's queued events when they ride on journal writes, and `announce()` (the new
   * step's events) after them; without riding, those are emitted once stored. On success every
   * entry is this run's, and none is left unwritten.
   */
  private async write(batch: readonly JournalEntryInput[], announce: (() => readonly RuntimeEventInput[]) | undefined): Promise<JournalEntry[]> {
    const options: AppendJournalOptions = { expectedSeq: this.unwritten[0]?.entry.seq ?? this.nextSeq, leaseEpoch: this.leaseEpoch };
    const events = this.events;
    let stored: JournalEntry[];
    if (events?.carriesEvents) {
      stored = await events.writeWith(
        () => announce?.() ?? [],
        (outgoing) => this.append(batch, options, outgoing.length === 0 ? undefined : { bus: events.bus, events: outgoing }),
      );
    } else {
      stored = await this.append(batch, options, undefined);
      if (announce && events) for (const e of announce()) events.emit(e.type, e.data as never);
    }
    this.stored(stored);
    this.nextSeq = options.expectedSeq + stored.length;
    return stored;
  }

  /** `entries` are stored: nothing is left unwritten. */
  private stored(entries: readonly JournalEntry[]): void {
    for (const entry of entries) {
      this.recorded.set(entry.stepId ?? String(entry.seq), entry);
      this.appended.push(entry);
    }
    // Steps deferred after this write began are not on the list yet: they stay counted.
    this.deferred -= this.unwritten.filter((u) => u.deferred).length;
    this.unwritten = [];
  }

  /** One store call: `append` (or `appendWithEvents`) for one entry, `appendMany` for several. */
  private async append(batch: readonly JournalEntryInput[], options: AppendJournalOptions, outbox: EventOutbox | undefined): Promise<JournalEntry[]> {
    if (batch.length > 1) return (await this.store.appendMany(batch, options, outbox)).entries;
    const entry = outbox === undefined ? await this.store.append(batch[0]!, options) : (await this.store.appendWithEvents(batch[0]!, options, outbox)).entry;
    return [entry];
  }
}

/** The entry a store will hold for `input` at `seq` (undefined fields left out), before it is written. */
function unwrittenEntry(input: JournalEntryInput, seq: number, leaseEpoch: number | undefined): JournalEntry {
  const fields = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as JournalEntryInput;
  return Object.freeze({ schemaVersion: 1, ...fields, seq, key: stepKey(input.jobId, seq), ...(leaseEpoch === undefined ? {} : { leaseEpoch }) });
}

/** A stable hash of a step's input (canonical JSON: sorted keys). */
export function hashInput(input: unknown): string {
  return hash('sha256', canonicalJson(input), 'hex');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}
