import { LuaScript } from '../connection/lua-script.js';

/**
 * Caches a job record unless the cache already holds the same or a newer version, so that a
 * slow reader can never put back a version older than one a writer cached after it.
 * KEYS: the job's cache key (a hash: `v` version, `d` JSON). ARGV: version, JSON, TTL in ms.
 * Returns 1 when written, 0 when a same-or-newer version was there.
 */
export const PUT_IF_NEWER = new LuaScript(`
local cached = tonumber(redis.call('HGET', KEYS[1], 'v'))
if cached and cached >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`);
