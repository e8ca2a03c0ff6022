export * from './execution-context.js';
