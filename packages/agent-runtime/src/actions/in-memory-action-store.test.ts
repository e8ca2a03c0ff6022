import { describeActionStoreContract } from '../testing/action-store-contract.js';
import { InMemoryActionStore } from './in-memory-action-store.js';

describeActionStoreContract(
  async () => {
    const store = new InMemoryActionStore();
    return {
      store,
      corrupt: async ({ actionId }, mode) => {
        const raw = mode === 'malformed' ? { schemaVersion: 1, id: actionId, status: 'maybe' } : { schemaVersion: 99, id: actionId };
        store.writeRawForTesting(actionId, raw);
      },
    };
  },
  { name: 'in-memory' },
);
