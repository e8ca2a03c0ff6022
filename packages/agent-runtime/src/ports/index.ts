export * from './job-store.js';
export * from './journal-store.js';
export * from './event-bus.js';
export * from './job-queue.js';
export * from './action-store.js';
export * from './signal-channel.js';
export * from './ledger-writer.js';
