export { RedisStreamsAdapter, type ReadEventsOptions, type ReadGroupOptions, type RedisStreamsAdapterOptions } from './redis-streams-adapter.js';
export type { StreamEntry } from './stream-entries.js';
export type { StreamWriterStats } from './stream-writer.js';
