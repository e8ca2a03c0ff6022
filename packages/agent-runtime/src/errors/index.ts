export * from './job-errors.js';
export * from './store-errors.js';
export * from './action-errors.js';
export * from './policy-errors.js';
export * from './ledger-errors.js';
export * from './plugin-errors.js';
export * from './kernel-errors.js';
export * from './orchestration-errors.js';
