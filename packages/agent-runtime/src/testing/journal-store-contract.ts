import { BatonError } from '@baton/llm-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptRecordError, JournalConflictError, LeaseLostError } from '../errors/store-errors.js';
import type { JobRef } from '../jobs/job-record.js';
import type { JournalEntry, JournalEntryInput } from '../journal/journal-entry.js';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import type { RuntimeEvent, RuntimeEventInput } from '../events/runtime-event.js';
import type { EventBus } from '../ports/event-bus.js';
import type { JournalStore } from '../ports/journal-store.js';

/** What a backend hands the journal store suite for one test. */
export interface JournalStoreContractHarness {
  readonly store: JournalStore;
  readonly cleanup?: (() => Promise<void> | void) | undefined;
  /** Overwrites the stored entry `seq` of a job with `raw` as is, bypassing validation. */
  readonly corrupt: (options: JobRef & { seq: number; raw: unknown }) => Promise<void> | void;
  /** The bus for `appendWithEvents` (a durable store's own, to test the write in one transaction); default in memory. */
  readonly bus?: EventBus | undefined;
  /**
   * Whether `appendMany` writes all or nothing even when the store fails part-way. No case depends
   * on it any more: every store, the port's default included, must refuse an invalid entry or a
   * stale `expectedSeq` before writing any of the batch, and the suite cannot make a store fail
   * part-way (the one case where the default can leave a prefix).
   */
  readonly appendManyAtomic?: boolean | undefined;
}

export type JournalStoreContractInit = () => Promise<JournalStoreContractHarness> | JournalStoreContractHarness;

let counter = 0;
const unique = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

async function rejects(promise: Promise<unknown>, code: string): Promise<BatonError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(BatonError.isInstance(error), `expected a BatonError with code '${code}', got ${String(error)}`).toBe(true);
  expect((error as BatonError).code).toBe(code);
  return error as BatonError;
}

/**
 * The behaviour every `JournalStore` must have: dense seqs with conflict detection (one entry or
 * several at once; a batch with an invalid entry or at a stale seq writes none of it), lease
 * fencing, shared data and log, take-once deferred events, scope isolation, pruning and typed
 * errors for corrupt rows. Each test uses fresh scope and job ids.
 */
export function describeJournalStoreContract(init: JournalStoreContractInit, options: { name?: string } = {}): void {
  describe(options.name ?? 'JournalStore contract', () => {
    let h: JournalStoreContractHarness;
    let store: JournalStore;
    let ref: JobRef;
    const step = (overrides: Partial<JournalEntryInput> = {}): JournalEntryInput => ({
      ...ref,
      kind: 'model',
      name: 'gpt-test',
      status: 'completed',
      output: { text: 'answer' },
      startedAt: 1_700_000_000_000,
      durationMs: 12,
      ...overrides,
    });
    const appendSteps = async (n: number): Promise<JournalEntry[]> => {
      const out: JournalEntry[] = [];
      for (let seq = 0; seq < n; seq++) out.push(await store.append(step({ name: `step-${seq}` }), { expectedSeq: seq }));
      return out;
    };
    beforeEach(async () => {
      h = await init();
      store = h.store;
      ref = { scopeId: unique('scope'), jobId: unique('job') };
    });
    afterEach(async () => {
      await h.cleanup?.();
    });

    describe('append and list', () => {
      it('stores entries with dense seqs and stable keys', async () => {
        const first = await store.append(
          step({ kind: 'tool', name: 'search', stepId: '0', inputHash: 'abc', inputSummary: 'search("x")', output: { hits: [1, 2] } }),
          { expectedSeq: 0, leaseEpoch: 1 },
        );
        expect(first).toEqual({
          schemaVersion: 1,
          ...ref,
          seq: 0,
          key: `${ref.jobId}:0`,
          stepId: '0',
          kind: 'tool',
          name: 'search',
          status: 'completed',
          inputHash: 'abc',
          inputSummary: 'search("x")',
          output: { hits: [1, 2] },
          startedAt: 1_700_000_000_000,
          durationMs: 12,
          leaseEpoch: 1,
        });
        const failed = await store.append(
          step({ status: 'failed', output: undefined, error: { code: 'timeout', message: 'slow', retryable: true } }),
          { expectedSeq: 1 },
        );
        expect(failed.error).toEqual({ code: 'timeout', message: 'slow', retryable: true });
        expect(await store.list(ref)).toEqual([first, failed]);
        expect(await store.head(ref)).toEqual({ nextSeq: 2, firstSeq: 0, leaseEpoch: 1 });
      });

      it('lists from a seq, with a limit', async () => {
        await appendSteps(5);
        expect((await store.list({ ...ref, fromSeq: 2 })).map((e) => e.seq)).toEqual([2, 3, 4]);
        expect((await store.list({ ...ref, fromSeq: 1, limit: 2 })).map((e) => e.seq)).toEqual([1, 2]);
        expect(await store.list({ ...ref, fromSeq: 9 })).toEqual([]);
      });

      it('refuses a duplicate or out-of-order seq and writes nothing', async () => {
        await appendSteps(2);
        const dup = await rejects(store.append(step({ name: 'again' }), { expectedSeq: 1 }), 'journal_conflict');
        expect(dup).toBeInstanceOf(JournalConflictError);
        expect(dup).toMatchObject({ jobId: ref.jobId, expectedSeq: 1, nextSeq: 2 });
        await rejects(store.append(step(), { expectedSeq: 5 }), 'journal_conflict');
        expect((await store.list(ref)).map((e) => e.name)).toEqual(['step-0', 'step-1']);
      });

      it('lets exactly one of concurrent appends of the same seq win', async () => {
        const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.append(step({ name: `w${i}` }), { expectedSeq: 0 })));
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as BatonError).code).toBe('journal_conflict');
        expect(await store.list(ref)).toHaveLength(1);
      });

      it('rejects an invalid entry and writes nothing', async () => {
        await rejects(store.append(step({ kind: 'dance' as never }), { expectedSeq: 0 }), 'invalid_argument');
        await rejects(store.append(step({ output: { n: Number.NaN } }), { expectedSeq: 0 }), 'invalid_argument');
        await rejects(store.append(step({ output: new Date() as never }), { expectedSeq: 0 }), 'invalid_argument');
        await rejects(store.append(step(), { expectedSeq: -1 }), 'invalid_argument');
        expect(await store.head(ref)).toMatchObject({ nextSeq: 0 });
      });

      it('keeps stored entries away from callers', async () => {
        const input = step({ output: { items: ['a'] } });
        const stored = await store.append(input, { expectedSeq: 0 });
        (input.output as { items: string[] }).items.push('b');
        try {
          (stored.output as { items: string[] }).items.push('c');
        } catch {
          // Frozen entries refuse the change, which is as good.
        }
        expect((await store.list(ref))[0]?.output).toEqual({ items: ['a'] });
      });
    });

    describe('lease fencing', () => {
      it('refuses writes from an older lease epoch once a newer one has written', async () => {
        await store.append(step(), { expectedSeq: 0, leaseEpoch: 2 });
        const lost = await rejects(store.append(step(), { expectedSeq: 1, leaseEpoch: 1 }), 'lease_lost');
        expect(lost).toBeInstanceOf(LeaseLostError);
        expect(lost).toMatchObject({ jobId: ref.jobId, leaseEpoch: 1, currentEpoch: 2 });
        await rejects(store.setSharedData({ ...ref, leaseEpoch: 1, values: { a: 1 } }), 'lease_lost');
        await rejects(store.appendSharedLog({ ...ref, leaseEpoch: 1, entries: ['x'] }), 'lease_lost');
        await rejects(store.addDeferredEvents({ ...ref, leaseEpoch: 1, events: [{ type: 'checkpoint.saved', data: { seq: 0, key: 'k' } }] }), 'lease_lost');
        await rejects(store.takeDeferredEvents({ ...ref, leaseEpoch: 1 }), 'lease_lost');
        expect(await store.head(ref)).toEqual({ nextSeq: 1, firstSeq: 0, leaseEpoch: 2 });
        expect(await store.getSharedData(ref)).toEqual({});
        await store.append(step(), { expectedSeq: 1, leaseEpoch: 3 });
        expect(await store.head(ref)).toMatchObject({ nextSeq: 2, leaseEpoch: 3 });
      });

      it('fences a job before its new holder writes', async () => {
        await store.append(step(), { expectedSeq: 0, leaseEpoch: 1 });
        await store.fence({ ...ref, leaseEpoch: 2 });
        await rejects(store.append(step(), { expectedSeq: 1, leaseEpoch: 1 }), 'lease_lost');
        await rejects(store.fence({ ...ref, leaseEpoch: 1 }), 'lease_lost');
        await store.fence({ ...ref, leaseEpoch: 2 });
        await store.append(step(), { expectedSeq: 1, leaseEpoch: 2 });
        expect(await store.head(ref)).toMatchObject({ nextSeq: 2, leaseEpoch: 2 });
      });

      it('does not fence writes made without a lease', async () => {
        await store.append(step(), { expectedSeq: 0, leaseEpoch: 4 });
        await store.append(step(), { expectedSeq: 1 });
        expect((await store.list(ref)).map((e) => e.leaseEpoch)).toEqual([4, undefined]);
      });
    });

    describe('shared data, shared log, deferred events', () => {
      it('merges, reads and deletes shared data', async () => {
        expect(await store.getSharedData(ref)).toEqual({});
        await store.setSharedData({ ...ref, values: { plan: ['a', 'b'], count: 1 } });
        await store.setSharedData({ ...ref, values: { count: 2, done: false } });
        expect(await store.getSharedData(ref)).toEqual({ plan: ['a', 'b'], count: 2, done: false });
        await store.deleteSharedData({ ...ref, keys: ['plan', 'absent'] });
        expect(await store.getSharedData(ref)).toEqual({ count: 2, done: false });
        await rejects(store.setSharedData({ ...ref, values: { bad: Symbol('x') as never } }), 'invalid_argument');
      });

      it('appends to and lists the shared log with dense indexes', async () => {
        const a = await store.appendSharedLog({ ...ref, entries: ['first', { n: 2 }] });
        const b = await store.appendSharedLog({ ...ref, entries: [3] });
        expect([...a, ...b].map((r) => [r.index, r.value])).toEqual([[0, 'first'], [1, { n: 2 }], [2, 3]]);
        expect(a[0]).toMatchObject({ schemaVersion: 1, ...ref });
        expect((await store.listSharedLog({ ...ref, fromIndex: 1 })).map((r) => r.value)).toEqual([{ n: 2 }, 3]);
        expect((await store.listSharedLog({ ...ref, limit: 1 })).map((r) => r.index)).toEqual([0]);
      });

      it('hands deferred events out once, in order', async () => {
        await store.addDeferredEvents({ ...ref, events: [{ type: 'action.resolved', data: { actionId: 'a1' } }] });
        await store.addDeferredEvents({ ...ref, events: [{ type: 'checkpoint.saved', data: { seq: 3, key: 'k' } }] });
        const taken = await store.takeDeferredEvents(ref);
        expect(taken.map((e) => e.type)).toEqual(['action.resolved', 'checkpoint.saved']);
        expect(taken[0]).toMatchObject({ schemaVersion: 1, ...ref, data: { actionId: 'a1' } });
        expect(await store.takeDeferredEvents(ref)).toEqual([]);
      });

      it('gives concurrent takers the deferred events once in total', async () => {
        await store.addDeferredEvents({ ...ref, events: [1, 2, 3].map((n) => ({ type: 'checkpoint.saved' as const, data: { seq: n, key: `k${n}` } })) });
        const takes = await Promise.all(Array.from({ length: 4 }, () => store.takeDeferredEvents(ref)));
        expect(takes.flat().map((e) => e.data.seq)).toEqual([1, 2, 3]);
        expect(takes.filter((t) => t.length > 0)).toHaveLength(1);
      });

      it('rejects deferred events of an unknown type', async () => {
        await rejects(store.addDeferredEvents({ ...ref, events: [{ type: 'job.exploded' as never, data: {} }] }), 'invalid_argument');
        expect(await store.takeDeferredEvents(ref)).toEqual([]);
      });
    });

    describe('scope isolation', () => {
      it("never shows or changes another scope's journal", async () => {
        await appendSteps(2);
        await store.setSharedData({ ...ref, values: { secret: 1 } });
        await store.appendSharedLog({ ...ref, entries: ['log'] });
        await store.addDeferredEvents({ ...ref, events: [{ type: 'action.resolved', data: { actionId: 'a' } }] });
        const other = { scopeId: unique('scope'), jobId: ref.jobId };
        expect(await store.list(other)).toEqual([]);
        expect(await store.head(other)).toEqual({ nextSeq: 0, firstSeq: 0, leaseEpoch: 0 });
        expect(await store.getSharedData(other)).toEqual({});
        expect(await store.listSharedLog(other)).toEqual([]);
        expect(await store.takeDeferredEvents(other)).toEqual([]);
        await store.append(step({ ...other }), { expectedSeq: 0 });
        await store.delete(other);
        expect(await store.list(ref)).toHaveLength(2);
        expect(await store.takeDeferredEvents(ref)).toHaveLength(1);
      });
    });

    describe('delete and prune', () => {
      it('deletes everything of a job', async () => {
        await appendSteps(3);
        await store.fence({ ...ref, leaseEpoch: 5 });
        await store.setSharedData({ ...ref, values: { a: 1 } });
        await store.appendSharedLog({ ...ref, entries: [1] });
        await store.delete(ref);
        expect(await store.list(ref)).toEqual([]);
        expect(await store.head(ref)).toEqual({ nextSeq: 0, firstSeq: 0, leaseEpoch: 0 });
        expect(await store.getSharedData(ref)).toEqual({});
        expect(await store.listSharedLog(ref)).toEqual([]);
      });

      it('prunes old entries without renumbering', async () => {
        await appendSteps(4);
        expect(await store.prune({ ...ref, beforeSeq: 2 })).toBe(2);
        expect((await store.list(ref)).map((e) => e.seq)).toEqual([2, 3]);
        expect(await store.head(ref)).toMatchObject({ nextSeq: 4, firstSeq: 2 });
        await store.append(step(), { expectedSeq: 4 });
        expect(await store.prune({ ...ref, beforeSeq: 2 })).toBe(0);
      });
    });

    describe('appendWithEvents and load', () => {
      const events = (n: number, from = 0): RuntimeEventInput[] =>
        Array.from({ length: n }, (_, i) => ({ type: 'step.completed', ...ref, data: { seq: from + i, key: `${ref.jobId}:${from + i}`, kind: 'custom', name: `s${from + i}`, durationMs: 1 } }) as RuntimeEventInput);
      const bus = (): EventBus => h.bus ?? new InMemoryEventBus();

      it('stores the entry and publishes its events in order, after the job\'s earlier events', async () => {
        const b = bus();
        const seen: RuntimeEvent[] = [];
        const unsubscribe = b.subscribe((e) => void seen.push(e), { jobId: ref.jobId, scopeId: ref.scopeId });
        await b.publish(events(1)[0]!);
        const { entry, events: published } = await store.appendWithEvents(step({ name: 'first' }), { expectedSeq: 0 }, { bus: b, events: events(3, 1) });
        expect(entry.seq).toBe(0);
        expect(published.map((e) => e.seq)).toEqual([2, 3, 4]);
        expect(published.map((e) => (e.data as { name: string }).name)).toEqual(['s1', 's2', 's3']);
        const replayed = await b.replay(ref);
        expect(replayed.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
        expect(replayed.slice(1)).toEqual(published);
        await expect.poll(() => seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
        unsubscribe();
        expect((await store.list(ref)).map((e) => e.name)).toEqual(['first']);
        // No events is an append.
        const second = await store.appendWithEvents(step({ name: 'second' }), { expectedSeq: 1 }, { bus: b, events: [] });
        expect(second.events).toEqual([]);
        expect((await store.head(ref)).nextSeq).toBe(2);
      });

      it('a refused append (seq conflict, stale lease) publishes none of its events', async () => {
        const b = bus();
        await store.appendWithEvents(step(), { expectedSeq: 0, leaseEpoch: 2 }, { bus: b, events: events(1) });
        await rejects(store.appendWithEvents(step(), { expectedSeq: 0, leaseEpoch: 2 }, { bus: b, events: events(2, 10) }), 'journal_conflict');
        await rejects(store.appendWithEvents(step(), { expectedSeq: 1, leaseEpoch: 1 }, { bus: b, events: events(2, 20) }), 'lease_lost');
        expect((await b.replay(ref)).map((e) => e.seq)).toEqual([1]);
        expect(await store.list(ref)).toHaveLength(1);
      });

      it('load returns every entry and the head, and never says no deferred events wait when some do', async () => {
        const empty = await store.load(ref);
        expect(empty.entries).toEqual([]);
        expect(empty.head).toEqual(await store.head(ref));
        expect(empty.hasDeferredEvents).not.toBe(true);
        await appendSteps(3);
        await store.fence({ ...ref, leaseEpoch: 4 });
        const loaded = await store.load(ref);
        expect(loaded.entries).toEqual(await store.list(ref));
        expect(loaded.head).toEqual({ nextSeq: 3, firstSeq: 0, leaseEpoch: 4 });
        await store.addDeferredEvents({ ...ref, leaseEpoch: 4, events: [{ type: 'action.resolved', data: { actionId: 'a1' } }] });
        expect((await store.load(ref)).hasDeferredEvents).not.toBe(false);
        await store.takeDeferredEvents({ ...ref, leaseEpoch: 4 });
        expect((await store.load(ref)).hasDeferredEvents).not.toBe(true);
      });
    });

    describe('appendMany', () => {
      const events = (n: number, from = 0): RuntimeEventInput[] =>
        Array.from({ length: n }, (_, i) => ({ type: 'step.completed', ...ref, data: { seq: from + i, key: `${ref.jobId}:${from + i}`, kind: 'custom', name: `s${from + i}`, durationMs: 1 } }) as RuntimeEventInput);
      const bus = (): EventBus => h.bus ?? new InMemoryEventBus();
      const names = async (): Promise<string[]> => (await store.list(ref)).map((e) => e.name);

      it('assigns consecutive seqs in order, from seq 0 and after earlier entries, under the lease epoch', async () => {
        const first = await store.appendMany([step({ name: 'a', stepId: '0' }), step({ name: 'b', stepId: '1' })], { expectedSeq: 0, leaseEpoch: 3 });
        expect(first.entries.map((e) => [e.seq, e.key, e.name, e.stepId, e.leaseEpoch])).toEqual([
          [0, `${ref.jobId}:0`, 'a', '0', 3],
          [1, `${ref.jobId}:1`, 'b', '1', 3],
        ]);
        expect(first.events).toEqual([]);
        const one = await store.appendMany([step({ name: 'c' })], { expectedSeq: 2, leaseEpoch: 3 });
        const more = await store.appendMany([step({ name: 'd' }), step({ name: 'e', status: 'failed', output: undefined, error: { code: 'x', message: 'no', retryable: false } }), step({ name: 'f' })], { expectedSeq: 3 });
        expect(more.entries.map((e) => e.seq)).toEqual([3, 4, 5]);
        expect(await store.list(ref)).toEqual([...first.entries, ...one.entries, ...more.entries]);
        expect(await store.head(ref)).toEqual({ nextSeq: 6, firstSeq: 0, leaseEpoch: 3 });
      });

      it('refuses a first seq that is not the next one and writes nothing; of concurrent batches of one seq exactly one is stored', async () => {
        await appendSteps(2);
        const conflict = await rejects(store.appendMany([step({ name: 'x' }), step({ name: 'y' })], { expectedSeq: 1 }), 'journal_conflict');
        expect(conflict).toBeInstanceOf(JournalConflictError);
        expect(conflict).toMatchObject({ jobId: ref.jobId, expectedSeq: 1, nextSeq: 2 });
        await rejects(store.appendMany([step({ name: 'x' })], { expectedSeq: 4 }), 'journal_conflict');
        expect(await names()).toEqual(['step-0', 'step-1']);
        const outcomes = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => store.appendMany([step({ name: `w${i}.0` }), step({ name: `w${i}.1` })], { expectedSeq: 2 })));
        const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        expect(won).toHaveLength(1);
        for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as BatonError).code).toBe('journal_conflict');
        expect(await names()).toEqual(['step-0', 'step-1', `w${won[0]}.0`, `w${won[0]}.1`]);
      });

      it('is fenced like append: a stale epoch writes nothing, a newer one raises the fence', async () => {
        await store.append(step(), { expectedSeq: 0, leaseEpoch: 2 });
        const lost = await rejects(store.appendMany([step({ name: 'stale' }), step({ name: 'stale' })], { expectedSeq: 1, leaseEpoch: 1 }), 'lease_lost');
        expect(lost).toBeInstanceOf(LeaseLostError);
        expect(lost).toMatchObject({ jobId: ref.jobId, leaseEpoch: 1, currentEpoch: 2 });
        expect(await store.head(ref)).toEqual({ nextSeq: 1, firstSeq: 0, leaseEpoch: 2 });
        await store.appendMany([step({ name: 'new' }), step({ name: 'new' })], { expectedSeq: 1, leaseEpoch: 4 });
        expect(await store.head(ref)).toEqual({ nextSeq: 3, firstSeq: 0, leaseEpoch: 4 });
        await rejects(store.append(step(), { expectedSeq: 3, leaseEpoch: 3 }), 'lease_lost');
        // A batch at seq 0 is fenced too (the head made by a fence alone).
        const fresh = { scopeId: ref.scopeId, jobId: unique('job') };
        await store.fence({ ...fresh, leaseEpoch: 5 });
        await rejects(store.appendMany([step({ ...fresh })], { expectedSeq: 0, leaseEpoch: 4 }), 'lease_lost');
        expect((await store.appendMany([step({ ...fresh }), step({ ...fresh })], { expectedSeq: 0, leaseEpoch: 5 })).entries.map((e) => e.seq)).toEqual([0, 1]);
      });

      it("publishes the outbox's events once the entries are stored, in order after the job's earlier events", async () => {
        const b = bus();
        await b.publish(events(1)[0]!);
        const { entries, events: published } = await store.appendMany([step({ name: 'a' }), step({ name: 'b' })], { expectedSeq: 0 }, { bus: b, events: events(2, 1) });
        expect(entries.map((e) => e.seq)).toEqual([0, 1]);
        expect(published.map((e) => [e.seq, (e.data as { name: string }).name])).toEqual([
          [2, 's1'],
          [3, 's2'],
        ]);
        expect((await b.replay(ref)).slice(1)).toEqual(published);
        // No events: the entries alone.
        expect((await store.appendMany([step({ name: 'c' }), step({ name: 'd' })], { expectedSeq: 2 }, { bus: b, events: [] })).events).toEqual([]);
        expect(await names()).toEqual(['a', 'b', 'c', 'd']);
      });

      it('a refused batch (seq conflict, stale lease) publishes none of its events', async () => {
        const b = bus();
        await store.appendMany([step(), step()], { expectedSeq: 0, leaseEpoch: 2 }, { bus: b, events: events(1) });
        await rejects(store.appendMany([step(), step()], { expectedSeq: 1, leaseEpoch: 2 }, { bus: b, events: events(2, 10) }), 'journal_conflict');
        await rejects(store.appendMany([step(), step()], { expectedSeq: 2, leaseEpoch: 1 }, { bus: b, events: events(2, 20) }), 'lease_lost');
        expect((await b.replay(ref)).map((e) => e.seq)).toEqual([1]);
        expect(await store.head(ref)).toMatchObject({ nextSeq: 2 });
      });

      it('refuses a batch with an invalid entry anywhere (InvalidArgumentError): nothing is written, fenced or published', async () => {
        const b = bus();
        await appendSteps(1);
        const head = await store.head(ref);
        const bad: JournalEntryInput[] = [
          step({ kind: 'dance' as never }),
          step({ name: '' }),
          step({ status: 'done' as never }),
          step({ output: { n: Number.NaN } }),
          step({ output: new Date() as never }),
          step({ stepId: '' }),
          step({ startedAt: -1 }),
          step({ durationMs: Number.NaN }),
          step({ status: 'failed', output: undefined, error: { message: 'no code', retryable: false } as never }),
          step({ status: 'failed', output: undefined, error: { code: '', message: 'empty code', retryable: false } }),
          null as never,
        ];
        for (const entry of bad) {
          for (const batch of [
            [step({ name: 'before' }), entry, step({ name: 'after' })],
            [entry, step({ name: 'after' })],
            [step({ name: 'before' }), step({ name: 'before' }), entry],
          ]) {
            await rejects(store.appendMany(batch, { expectedSeq: 1, leaseEpoch: 7 }, { bus: b, events: events(1) }), 'invalid_argument');
          }
        }
        expect(await names()).toEqual(['step-0']);
        expect(await store.head(ref)).toEqual(head);
        expect(await b.replay(ref)).toEqual([]);
        // The seq was not used.
        expect((await store.appendMany([step({ name: 'a' }), step({ name: 'b' })], { expectedSeq: 1 })).entries.map((e) => e.seq)).toEqual([1, 2]);
      });

      it('refuses a batch at a stale expectedSeq (JournalConflictError): nothing is written, fenced or published', async () => {
        const b = bus();
        const before = await appendSteps(3);
        const head = await store.head(ref);
        for (const expectedSeq of [0, 1, 2]) {
          const error = await rejects(
            store.appendMany([step({ name: 'x' }), step({ name: 'y' }), step({ name: 'z' })], { expectedSeq, leaseEpoch: 9 }, { bus: b, events: events(2) }),
            'journal_conflict',
          );
          expect(error).toMatchObject({ jobId: ref.jobId, expectedSeq, nextSeq: 3 });
        }
        expect(await store.list(ref)).toEqual(before);
        expect(await store.head(ref)).toEqual(head);
        expect(await b.replay(ref)).toEqual([]);
      });

      it('refuses an empty batch, a bad expectedSeq and entries of several jobs before writing anything', async () => {
        await rejects(store.appendMany([], { expectedSeq: 0 }), 'invalid_argument');
        await rejects(store.appendMany([step()], { expectedSeq: -1 }), 'invalid_argument');
        await rejects(store.appendMany([step(), step({ jobId: unique('job') })], { expectedSeq: 0 }), 'invalid_argument');
        await rejects(store.appendMany([step(), step({ scopeId: unique('scope') })], { expectedSeq: 0 }), 'invalid_argument');
        expect(await store.head(ref)).toEqual({ nextSeq: 0, firstSeq: 0, leaseEpoch: 0 });
        expect(await store.list(ref)).toEqual([]);
      });
    });

    describe('corrupt records', () => {
      it('names the job and step when a stored entry does not parse', async () => {
        const [, second] = await appendSteps(2);
        await h.corrupt({ ...ref, seq: 1, raw: { ...second, kind: 42 } });
        const error = await rejects(store.list(ref), 'corrupt_record');
        expect(error).toBeInstanceOf(CorruptRecordError);
        expect(error).toMatchObject({ recordType: 'journal_entry', jobId: ref.jobId, recordId: `${ref.jobId}:1` });
        expect(error.message).toContain('kind');
        expect(await store.list({ ...ref, limit: 1 })).toHaveLength(1);
      });

      it('refuses an entry with an unknown schema version', async () => {
        const [first] = await appendSteps(1);
        await h.corrupt({ ...ref, seq: 0, raw: { ...first, schemaVersion: 2 } });
        const error = await rejects(store.list(ref), 'corrupt_record');
        expect(error.message).toContain('schema version');
      });
    });
  });
}
