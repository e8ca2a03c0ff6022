export { RedisUnavailableError } from './redis-unavailable-error.js';
export { RedisCommandError } from './redis-command-error.js';
export { RedisAdapterClosedError } from './redis-adapter-closed-error.js';
export { CorruptStreamEntryError } from './corrupt-stream-entry-error.js';
export { isRedisConnectionError, mapRedisError } from './map-redis-error.js';
