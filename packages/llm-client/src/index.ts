export * from './errors/index.js';
export * from './types/index.js';
export type * from './engine/types.js';
export type * from './tools/types.js';
export type * from './agent/types.js';
