/**
 * The other host of the cross-process wake-up test, run as a child process:
 * `node --conditions=source --import tsx resolve-in-child.ts` with REDIS_URL and KEY_PREFIX set.
 * Prints `ready` once connected; then for each stdin line `resolve <scopeId> <token>` it resolves
 * the action through its own ActionManager, RedisActionStore and RedisSignalChannel, and prints
 * `{"startedAt": …}`: the wall-clock time (sub-millisecond) just before `resolve` was called.
 */
import { createInterface } from 'node:readline';
import { ActionManager } from '@baton/agent-runtime';
import { RedisActionStore } from '../actions/redis-action-store.js';
import { RedisSignalChannel } from '../signals/redis-signal-channel.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = process.env.KEY_PREFIX ?? '';
const store = new RedisActionStore({ url, keyPrefix });
const signals = new RedisSignalChannel({ url, channelPrefix: keyPrefix });
const actions = new ActionManager({ store, signals });
await store.listPending({ scopeId: 'warm-up' });
console.log('ready');

for await (const line of createInterface({ input: process.stdin })) {
  const [command, scopeId, token] = line.trim().split(' ');
  if (command !== 'resolve' || !scopeId || !token) break;
  const startedAt = performance.timeOrigin + performance.now();
  await actions.resolve(token, { approved: true }, { scopeId, principalId: 'host-b' });
  console.log(JSON.stringify({ startedAt }));
}
await Promise.all([store.close(), signals.close()]);
