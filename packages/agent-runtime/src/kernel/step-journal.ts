import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@baton/llm-client';
import { ReplayDivergenceError, StepOutputError } from '../errors/kernel-errors.js';
import type { JobRef } from '../jobs/job-record.js';
import { toFrozenJson, type JsonValue } from '../jobs/json-value.js';
import { serializeError, type SerializedError } from '../jobs/serialized-error.js';
import type { JournalEntry, JournalStepKind } from '../journal/journal-entry.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import type { JournalLoad, JournalStore } from '../ports/journal-store.js';
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

/**
 * A job's journal as one run sees it: the entries written by earlier runs, looked up by their
 * logical step id, and the appends of this run, written one at a time in order (so concurrent
 * steps never race for a seq) under the run's lease epoch.
 *
 * Step ids are logical positions in the job's code: `"3"` for the fourth top-level step,
 * `"3.2"` for the call with index 2 inside the agent run that step 3 started. They do not
 * depend on the order in which concurrent steps finish, so a replay finds every finished step
 * whatever order it was written in.
 */
export class StepJournal {
  private readonly recorded = new Map<string, JournalEntry>();
  private nextSeq: number;
  private chain: Promise<unknown> = Promise.resolve();
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

  get size(): number {
    return this.recorded.size;
  }

  /** Every entry, earlier runs' and this run's, by step id. */
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
   * `then(seq)` gives the events that announce the stored step (`step.completed`): they are
   * written with the entry when the job's events ride on journal writes, else emitted after it.
   */
  record(step: StepRecord, then?: (seq: number) => readonly RuntimeEventInput[]): Promise<JournalEntry> {
    if (this.closed) return Promise.reject(new InvalidArgumentError('journal', `job ${this.ref.jobId} is no longer running here; step ${step.stepId} was not recorded`));
    let output: JsonValue | undefined;
    if (step.output !== undefined) {
      try {
        output = toFrozenJson(step.output, 'output');
      } catch (e) {
        return Promise.reject(new StepOutputError(this.ref.jobId, step.stepId, e instanceof Error ? e.message : String(e)));
      }
    }
    const input = {
      jobId: this.ref.jobId,
      scopeId: this.ref.scopeId,
      stepId: step.stepId,
      kind: step.kind,
      name: step.name,
      status: step.error === undefined ? ('completed' as const) : ('failed' as const),
      inputHash: step.input === undefined ? undefined : hashInput(step.input),
      inputSummary: step.inputSummary,
      output,
      error: step.error === undefined ? undefined : serializeError(step.error),
      startedAt: step.startedAt,
      durationMs: step.durationMs,
    };
    const run = this.chain.then(async () => {
      const seq = this.nextSeq;
      const options = { expectedSeq: seq, leaseEpoch: this.leaseEpoch };
      const events = this.events;
      let entry: JournalEntry;
      if (events?.carriesEvents) {
        entry = await events.writeWith(
          () => then?.(seq) ?? [],
          async (batch) => (batch.length === 0 ? this.store.append(input, options) : (await this.store.appendWithEvents(input, options, { bus: events.bus, events: batch })).entry),
        );
      } else {
        entry = await this.store.append(input, options);
        if (then && events) for (const e of then(seq)) events.emit(e.type, e.data as never);
      }
      this.nextSeq = seq + 1;
      this.recorded.set(step.stepId, entry);
      this.appended.push(entry);
      return entry;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Waits for every pending append. */
  async flush(): Promise<void> {
    await this.chain;
  }

  /** Refuses further appends (the run ended, was cancelled or lost its lease). */
  close(): void {
    this.closed = true;
  }
}

/** A stable hash of a step's input (canonical JSON: sorted keys). */
export function hashInput(input: unknown): string {
  return createHash('sha256').update(canonicalJson(input)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}
