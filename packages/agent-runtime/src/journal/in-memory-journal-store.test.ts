import { InvalidArgumentError } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import type { EventOutbox } from '../ports/event-bus.js';
import { JournalStore, type AppendJournalOptions } from '../ports/journal-store.js';
import { describeJournalStoreContract } from '../testing/journal-store-contract.js';
import { InMemoryJournalStore } from './in-memory-journal-store.js';
import { JournalEntrySchema, type JournalEntryInput } from './journal-entry.js';

describeJournalStoreContract(
  () => {
    const store = new InMemoryJournalStore();
    return { store, corrupt: (options) => store.plantRawForTesting(options) };
  },
  { name: 'InMemoryJournalStore' },
);

/** The in-memory store with the port's default `appendMany` (one append after another), as a store that does not override it has. */
class DefaultAppendManyStore extends InMemoryJournalStore {
  override appendMany(entries: readonly JournalEntryInput[], options: AppendJournalOptions, outbox?: EventOutbox) {
    return JournalStore.prototype.appendMany.call(this, entries, options, outbox);
  }
}

describeJournalStoreContract(
  () => {
    const store = new DefaultAppendManyStore();
    return { store, corrupt: (options) => store.plantRawForTesting(options), appendManyAtomic: false };
  },
  { name: 'JournalStore default appendMany (on the in-memory store)' },
);

describe("JournalStore's default appendMany", () => {
  const ref = { scopeId: 'scope-1', jobId: 'job-1' };
  const step = (name: string, overrides: Partial<JournalEntryInput> = {}): JournalEntryInput => ({
    ...ref,
    kind: 'custom',
    name,
    status: 'completed',
    startedAt: 1_000,
    durationMs: 1,
    ...overrides,
  });

  /** The default `appendMany` over the in-memory `append`, counting appends and failing the `failAt`-th one (1-based) as a store would. */
  class CountingStore extends DefaultAppendManyStore {
    appends = 0;
    failAt: number | undefined;
    override async append(entry: JournalEntryInput, options: AppendJournalOptions) {
      if (++this.appends === this.failAt) throw new Error('connection lost');
      return super.append(entry, options);
    }
  }

  it('checks every entry before the first append: an invalid one anywhere names its field and index, and nothing is appended', async () => {
    const store = new CountingStore();
    const error = await store.appendMany([step('a'), step('b'), step('c', { kind: 'dance' as never })], { expectedSeq: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ argument: 'entry.kind' });
    expect((error as Error).message).toContain('entries[2]');
    await expect(store.appendMany([step('a'), step('b', { error: { code: 'x', message: 'm', retryable: 'no' } as never })], { expectedSeq: 0 })).rejects.toMatchObject({
      argument: 'entry.error.retryable',
    });
    await expect(store.appendMany([step('a')], { expectedSeq: 0, leaseEpoch: 1.5 })).rejects.toMatchObject({ argument: 'leaseEpoch' });
    expect(store.appends).toBe(0);
    expect(await store.head(ref)).toEqual({ nextSeq: 0, firstSeq: 0, leaseEpoch: 0 });
  });

  it('leaves the entries before a store failure part-way stored (the one case that writes a prefix)', async () => {
    const store = new CountingStore();
    store.failAt = 2;
    await expect(store.appendMany([step('a'), step('b'), step('c')], { expectedSeq: 0 })).rejects.toThrow('connection lost');
    expect((await store.list(ref)).map((e) => e.name)).toEqual(['a']);
  });
});

describe('InMemoryJournalStore appendMany', () => {
  it('refuses what JournalEntrySchema refuses, as append does', async () => {
    const store = new InMemoryJournalStore();
    const entry = (overrides: Partial<JournalEntryInput>): JournalEntryInput => ({ scopeId: 's', jobId: 'j', kind: 'tool', name: 't', status: 'completed', startedAt: 0, durationMs: 0, ...overrides });
    for (const bad of [entry({ stepId: '' }), entry({ status: 'failed', error: { code: '', message: 'm', retryable: false } })]) {
      expect(JournalEntrySchema.safeParse({ ...bad, schemaVersion: 1, seq: 0, key: 'j:0' }).success).toBe(false);
      await expect(store.append(bad, { expectedSeq: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(store.appendMany([entry({}), bad], { expectedSeq: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(await store.list({ scopeId: 's', jobId: 'j' })).toEqual([]);
  });
});
