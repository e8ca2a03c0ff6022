export * from './job-store-contract.js';
export * from './journal-store-contract.js';
export * from './event-bus-contract.js';
export * from './job-queue-contract.js';
export * from './action-store-contract.js';
export * from './signal-channel-contract.js';
export * from './ledger-writer-contract.js';
export * from './lossy-event-bus.js';
