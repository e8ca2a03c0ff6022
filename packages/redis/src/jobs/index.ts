export { RedisJobCache, type RedisJobCacheOptions } from './redis-job-cache.js';
