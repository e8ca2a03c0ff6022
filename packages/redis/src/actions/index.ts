export { RedisActionStore, type RedisActionStoreOptions } from './redis-action-store.js';
