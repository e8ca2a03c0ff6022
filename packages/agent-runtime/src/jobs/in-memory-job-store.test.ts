import { describeJobStoreContract } from '../testing/job-store-contract.js';
import { InMemoryJobStore } from './in-memory-job-store.js';

describeJobStoreContract(
  () => {
    const store = new InMemoryJobStore();
    return { store, corrupt: (options) => store.plantRawForTesting(options) };
  },
  { name: 'InMemoryJobStore' },
);
