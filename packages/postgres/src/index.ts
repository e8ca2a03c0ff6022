export { PostgresActionStore } from './stores/postgres-action-store.js';
export { PostgresLedgerWriter } from './stores/postgres-ledger-writer.js';
export { PostgresSignalChannel, type PostgresSignalChannelOptions } from './stores/postgres-signal-channel.js';
export { PostgresJobStore } from './stores/postgres-job-store.js';
export { PostgresJournalStore, type PostgresJournalStoreOptions } from './stores/postgres-journal-store.js';
export { PostgresEventBus, type PostgresEventBusOptions } from './events/postgres-event-bus.js';
export { PostgresJobQueue, type PostgresJobQueueOptions } from './queue/postgres-job-queue.js';
