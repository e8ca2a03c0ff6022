import { describeJournalStoreContract } from '../testing/journal-store-contract.js';
import { InMemoryJournalStore } from './in-memory-journal-store.js';

describeJournalStoreContract(
  () => {
    const store = new InMemoryJournalStore();
    return { store, corrupt: (options) => store.plantRawForTesting(options) };
  },
  { name: 'InMemoryJournalStore' },
);
