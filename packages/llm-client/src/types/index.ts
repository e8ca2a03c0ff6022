export * from './messages.js';
export * from './model.js';
export * from './request-context.js';
export * from './pricing.js';
