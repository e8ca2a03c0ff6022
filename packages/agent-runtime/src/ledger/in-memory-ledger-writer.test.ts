import { describeLedgerWriterContract } from '../testing/ledger-writer-contract.js';
import { InMemoryLedgerWriter } from './in-memory-ledger-writer.js';

describeLedgerWriterContract(
  async () => {
    const store = new InMemoryLedgerWriter();
    return {
      store,
      corrupt: async ({ eventId }, mode) => {
        store.writeRawForTesting({ kind: 'event', id: eventId }, mode === 'malformed' ? { schemaVersion: 1, id: eventId, kind: 'bribe' } : { schemaVersion: 7 });
      },
    };
  },
  { name: 'in-memory' },
);
