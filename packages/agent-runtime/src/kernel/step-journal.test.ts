import { describe, expect, it } from 'vitest';
import { LeaseLostError } from '../errors/store-errors.js';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import type { RuntimeEvent, RuntimeEventInput } from '../events/runtime-event.js';
import { InMemoryJournalStore } from '../journal/in-memory-journal-store.js';
import type { JournalEntry, JournalEntryInput } from '../journal/journal-entry.js';
import type { EventOutbox } from '../ports/event-bus.js';
import type { AppendJournalOptions } from '../ports/journal-store.js';
import { EventEmitterChain } from './event-chain.js';
import { StepJournal, type StepRecord } from './step-journal.js';

const ref = { scopeId: 'tenant-a', jobId: 'job-1' };

/** One store call: which method, the names of its entries, its first seq and how many events it carried. */
interface Call {
  method: 'append' | 'appendWithEvents' | 'appendMany';
  names: string[];
  expectedSeq: number;
  events: number;
}

/** The in-memory store recording each write, with a hook that runs before it (to hold or fail it). */
class RecordingStore extends InMemoryJournalStore {
  readonly calls: Call[] = [];
  before: (call: Call) => Promise<void> | void = () => {};

  override async append(entry: JournalEntryInput, options: AppendJournalOptions): Promise<JournalEntry> {
    await this.note({ method: 'append', names: [entry.name], expectedSeq: options.expectedSeq, events: 0 });
    return super.append(entry, options);
  }

  override async appendWithEvents(entry: JournalEntryInput, options: AppendJournalOptions, outbox: EventOutbox): Promise<{ entry: JournalEntry; events: RuntimeEvent[] }> {
    await this.note({ method: 'appendWithEvents', names: [entry.name], expectedSeq: options.expectedSeq, events: outbox.events.length });
    return super.appendWithEvents(entry, options, outbox);
  }

  override async appendMany(entries: readonly JournalEntryInput[], options: AppendJournalOptions, outbox?: EventOutbox): Promise<{ entries: JournalEntry[]; events: RuntimeEvent[] }> {
    await this.note({ method: 'appendMany', names: entries.map((e) => e.name), expectedSeq: options.expectedSeq, events: outbox?.events.length ?? 0 });
    return super.appendMany(entries, options, outbox);
  }

  private async note(call: Call): Promise<void> {
    this.calls.push(call);
    await this.before(call);
  }
}

const step = (stepId: string, name: string, overrides: Partial<StepRecord> = {}): StepRecord => ({ stepId, kind: 'custom', name, startedAt: 1_700_000_000_000, durationMs: 1, output: name, ...overrides });
const answer = (stepId: string): StepRecord => step(stepId, 'approval', { kind: 'action', durationMs: 0, output: { actionId: 'a1', status: 'resolved', resolution: { approved: true }, resolvedBy: 'bob' } });
const names = async (store: InMemoryJournalStore): Promise<string[]> => (await store.list(ref)).map((e) => `${e.seq}:${e.name}`);

describe('StepJournal.recordLater', () => {
  it('is visible at once and written with the next append, in one store call, at the seq it would have had', async () => {
    const store = new RecordingStore();
    await store.append({ ...ref, stepId: '0', kind: 'custom', name: 'plan', status: 'completed', startedAt: 1, durationMs: 1 }, { expectedSeq: 0, leaseEpoch: 2 });
    store.calls.length = 0;
    const journal = StepJournal.from(store, ref, await store.load(ref), 2);
    journal.recordLater(answer('1'));
    const seen = journal.lookup('1', 'action', 'approval');
    expect(seen).toMatchObject({ status: 'completed', output: { status: 'resolved' }, entry: { seq: 1, key: 'job-1:1', leaseEpoch: 2 } });
    expect(journal.entries().map((e) => e.stepId)).toEqual(['0', '1']);
    await Promise.resolve();
    expect(store.calls).toEqual([]);
    expect(await names(store)).toEqual(['0:plan']);

    const shipped = await journal.record(step('2', 'ship'));
    expect(shipped.seq).toBe(2);
    expect(store.calls).toEqual([{ method: 'appendMany', names: ['approval', 'ship'], expectedSeq: 1, events: 0 }]);
    expect(await names(store)).toEqual(['0:plan', '1:approval', '2:ship']);
    // The entries the run sees are the stored ones.
    expect(journal.entries()).toEqual(await store.list(ref));
    expect(journal.appended.map((e) => e.name)).toEqual(['approval', 'ship']);
    await journal.flush();
    expect(store.calls).toHaveLength(1);
  });

  it('is written by flush() alone when no append follows', async () => {
    const store = new RecordingStore();
    const journal = StepJournal.empty(store, ref);
    journal.recordLater(answer('0'));
    await journal.flush();
    expect(store.calls).toEqual([{ method: 'append', names: ['approval'], expectedSeq: 0, events: 0 }]);
    expect(await names(store)).toEqual(['0:approval']);
    // Nothing left to write.
    await journal.flush();
    expect(store.calls).toHaveLength(1);
  });

  it('keeps its place after appends still being written, and before later ones', async () => {
    const store = new RecordingStore();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    store.before = (call) => (call.names[0] === 'slow' ? held : undefined);
    const journal = StepJournal.empty(store, ref);
    const slow = journal.record(step('0', 'slow'));
    journal.recordLater(answer('1'));
    // Visible at the seq it gets once the slow step is stored.
    expect(journal.lookup('1', 'action', 'approval')?.entry.seq).toBe(1);
    const next = journal.record(step('2', 'next'));
    release();
    await Promise.all([slow, next]);
    expect(store.calls.map((c) => [c.method, c.names, c.expectedSeq])).toEqual([
      ['append', ['slow'], 0],
      ['appendMany', ['approval', 'next'], 1],
    ]);
    expect(await names(store)).toEqual(['0:slow', '1:approval', '2:next']);
  });

  it('stays unwritten when the write carrying it fails, for the next write', async () => {
    const store = new RecordingStore();
    let failures = 1;
    store.before = (call) => {
      if (call.method === 'appendMany' && failures-- > 0) throw new LeaseLostError({ jobId: ref.jobId, leaseEpoch: 1, currentEpoch: 1, reason: 'injected' });
    };
    const journal = StepJournal.empty(store, ref);
    journal.recordLater(answer('0'));
    await expect(journal.record(step('1', 'ship'))).rejects.toBeInstanceOf(LeaseLostError);
    expect(await names(store)).toEqual([]);
    expect(journal.lookup('0', 'action', 'approval')?.entry.seq).toBe(0);
    await journal.flush();
    expect(await names(store)).toEqual(['0:approval']);
  });

  it("rides with the job's events on the next write when they ride on journal writes", async () => {
    const store = new RecordingStore();
    const bus = new InMemoryEventBus();
    const events = new EventEmitterChain(bus, ref, (e) => {
      throw e;
    }, { lingerMs: 60_000 });
    const journal = StepJournal.empty(store, ref, 1, events);
    journal.recordLater(answer('0'));
    events.emit('step.started', { seq: 0, key: 'job-1:1', kind: 'custom', name: 'ship' });
    const completed = (seq: number): RuntimeEventInput[] => [events.build('step.completed', { seq, key: `job-1:${seq}`, kind: 'custom', name: 'ship', durationMs: 1 })];
    await journal.record(step('1', 'ship'), completed);
    expect(store.calls).toEqual([{ method: 'appendMany', names: ['approval', 'ship'], expectedSeq: 0, events: 2 }]);
    const published = await bus.replay(ref);
    expect(published.map((e) => [e.type, (e.data as { seq: number }).seq])).toEqual([
      ['step.started', 0],
      ['step.completed', 1],
    ]);
    // flush() alone carries what is queued too.
    journal.recordLater(answer('2'));
    events.emit('step.started', { seq: 0, key: 'job-1:3', kind: 'custom', name: 'later' });
    await journal.flush();
    expect(store.calls[1]).toEqual({ method: 'appendWithEvents', names: ['approval'], expectedSeq: 2, events: 1 });
    await events.flush();
  });

  it('refuses a step once the journal is closed, and a closed journal writes nothing more', async () => {
    const store = new RecordingStore();
    const journal = StepJournal.empty(store, ref);
    journal.recordLater(answer('0'));
    journal.close();
    expect(() => journal.recordLater(answer('1'))).toThrow(/no longer running here/);
    await expect(journal.record(step('2', 'x'))).rejects.toMatchObject({ code: 'invalid_argument' });
    await journal.flush();
    expect(store.calls).toEqual([]);
  });

  it('refuses an output that is not JSON before taking a place', () => {
    const journal = StepJournal.empty(new RecordingStore(), ref);
    expect(() => journal.recordLater(step('0', 'bad', { output: { n: Number.NaN } }))).toThrow(expect.objectContaining({ code: 'step_output_not_json' }));
    expect(journal.size).toBe(0);
  });
});

describe('StepJournal.defer (journal writes carry the job events)', () => {
  /** A journal whose job events ride on its writes (as on stores that share the bus's transactions). */
  const carrying = (store: RecordingStore) => {
    const bus = new InMemoryEventBus();
    const events = new EventEmitterChain(bus, ref, () => {}, { lingerMs: 1_000 });
    return { journal: StepJournal.empty(store, ref, 1, events), events };
  };

  it('is visible at once, stored by the next step write (which settle waits for) in one call, and never twice', async () => {
    const store = new RecordingStore();
    const { journal } = carrying(store);
    expect(journal.defers).toBe(true);
    expect(journal.defer(step('0', 'a'))).toBe(0);
    expect(journal.lookup('0', 'custom', 'a')).toMatchObject({ status: 'completed', output: 'a', entry: { seq: 0 } });
    expect(await names(store)).toEqual([]);
    await journal.settle();
    expect(await names(store)).toEqual(['0:a']);
    expect(journal.defer(step('1', 'b'))).toBe(1);
    await journal.record(step('2', 'c'));
    expect(store.calls.map((c) => [c.method, c.names])).toEqual([
      ['append', ['a']],
      ['appendMany', ['b', 'c']],
    ]);
    await journal.settle(); // nothing left: no call
    expect(store.calls).toHaveLength(2);
  });

  it('is stored on its own a moment later when nothing else writes', async () => {
    const store = new RecordingStore();
    const { journal } = carrying(store);
    journal.defer(step('0', 'a'));
    journal.defer(step('1', 'b'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await names(store)).toEqual(['0:a', '1:b']);
    expect(store.calls).toHaveLength(1);
  });

  it('writeLast hands the unstored steps to the last write; a failed one leaves them for flush, and no step is recorded after it', async () => {
    const store = new RecordingStore();
    const { journal } = carrying(store);
    journal.defer(step('0', 'a'));
    journal.recordLater(answer('1'));
    await expect(
      journal.writeLast(async (pending) => {
        expect(pending?.entries.map((e) => e.name)).toEqual(['a', 'approval']);
        expect(pending?.options).toEqual({ expectedSeq: 0, leaseEpoch: 1 });
        throw new Error('completion failed');
      }),
    ).rejects.toThrow('completion failed');
    expect(() => journal.defer(step('2', 'late'))).toThrow(/no longer running/);
    await journal.flush();
    expect(await names(store)).toEqual(['0:a', '1:approval']);

    const other = new RecordingStore();
    const second = carrying(other).journal;
    second.defer(step('0', 'a'));
    const written = await second.writeLast(async (pending) => {
      await other.appendMany(pending!.entries, pending!.options);
      return 'done';
    });
    expect(written).toBe('done');
    await second.flush(); // stored by the last write: nothing more
    expect(other.calls).toHaveLength(1);
  });

  it('a journal whose job events do not ride on its writes does not defer', () => {
    const journal = StepJournal.empty(new RecordingStore(), ref, 1, new EventEmitterChain(new InMemoryEventBus(), ref, () => {}));
    expect(journal.defers).toBe(false);
  });
});
