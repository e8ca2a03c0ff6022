export {
  RedisStreamsAdapter,
  type ReadEventsOptions,
  type ReadGroupOptions,
  type RedisStreamsAdapterOptions,
  type StreamWriterStats,
} from './redis-streams-adapter.js';
export type { StreamEntry } from './stream-entries.js';
