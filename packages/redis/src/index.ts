export { RedisSignalChannel, type RedisSignalChannelOptions } from './signals/index.js';
export { RedisActionStore, type RedisActionStoreOptions } from './actions/index.js';
export { RedisJobCache, type RedisJobCacheOptions } from './jobs/index.js';
export {
  RedisStreamsAdapter,
  type ReadEventsOptions,
  type ReadGroupOptions,
  type RedisStreamsAdapterOptions,
  type StreamEntry,
  type StreamWriterStats,
} from './streams/index.js';
export type { RedisConnectionOptions } from './connection/index.js';
export {
  CorruptStreamEntryError,
  RedisAdapterClosedError,
  RedisCommandError,
  RedisUnavailableError,
  isRedisConnectionError,
  mapRedisError,
} from './errors/index.js';
