import { LuaScript } from '../connection/lua-script.js';

/**
 * Creates an action with its indexes, unless its id or token hash is taken.
 * KEYS: record, token, job index, pending index, expiry index, scope expiry index.
 * ARGV: json, id, createdAt, expiresAt, '1' when pending. Returns 1, or 0 when taken.
 *
 * A record already stored byte for byte as given counts as created: ioredis resends a command
 * whose reply was lost with its connection, and the resent script must not report its own
 * first run as a conflict. (The same holds for compare-and-set below.)
 */
export const CREATE_ACTION = new LuaScript(`
local existing = redis.call('GET', KEYS[1])
if existing == ARGV[1] then return 1 end
if existing or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
  redis.call('ZADD', KEYS[5], ARGV[4], ARGV[2])
  redis.call('ZADD', KEYS[6], ARGV[4], ARGV[2])
end
return 1
`);

/**
 * Replaces an action if its stored JSON is still exactly the one the caller read (every write
 * bumps `version`, so equal JSON means an unchanged record), and moves its indexes.
 * KEYS: record, old token, new token, old job index, new job index, pending index, expiry
 * index, scope expiry index (the old keys come from the record the caller read).
 * ARGV: JSON read, new JSON, id, createdAt, expiresAt, '1' when pending.
 * Returns {1} on success (also when the record already is the new JSON: a resent script whose
 * first run applied); {0, current JSON} (or {0} when gone) when the record changed;
 * {-1} when the new token hash belongs to another action.
 */
export const COMPARE_AND_SET_ACTION = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current == ARGV[2] then return {1} end
if current ~= ARGV[1] then
  if current then return {0, current} end
  return {0}
end
if KEYS[3] ~= KEYS[2] then
  local holder = redis.call('GET', KEYS[3])
  if holder and holder ~= ARGV[3] then return {-1} end
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
if KEYS[5] ~= KEYS[4] then redis.call('ZREM', KEYS[4], ARGV[3]) end
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[3])
if ARGV[6] == '1' then
  redis.call('ZADD', KEYS[6], ARGV[4], ARGV[3])
  redis.call('ZADD', KEYS[7], ARGV[5], ARGV[3])
  redis.call('ZADD', KEYS[8], ARGV[5], ARGV[3])
else
  redis.call('ZREM', KEYS[6], ARGV[3])
  redis.call('ZREM', KEYS[7], ARGV[3])
  redis.call('ZREM', KEYS[8], ARGV[3])
end
return {1}
`);
