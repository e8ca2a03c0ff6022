export { RedisConnection, type RedisConnectionOptions } from './redis-connection.js';
export { LuaScript } from './lua-script.js';
export { DEFAULT_KEY_PREFIX, keyPart, keyPrefixOf, positiveInt } from './key-prefix.js';
