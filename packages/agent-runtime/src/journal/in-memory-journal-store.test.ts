import type { EventOutbox } from '../ports/event-bus.js';
import { JournalStore, type AppendJournalOptions } from '../ports/journal-store.js';
import { describeJournalStoreContract } from '../testing/journal-store-contract.js';
import { InMemoryJournalStore } from './in-memory-journal-store.js';
import type { JournalEntryInput } from './journal-entry.js';

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
