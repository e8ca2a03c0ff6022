import { randomBytes } from 'node:crypto';
import { InMemoryJobStore } from '@baton/agent-runtime';
import { describeActionStoreContract, describeJobStoreContract, describeSignalChannelContract } from '@baton/agent-runtime/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisActionStore } from './actions/redis-action-store.js';
import { RedisJobCache } from './jobs/redis-job-cache.js';
import { RedisSignalChannel } from './signals/redis-signal-channel.js';
import { deleteKeys, freshPrefix, redisAvailable, REDIS_URL, testClient } from './test-helpers/environment.js';

// The runtime's contract suites on the Redis server of REDIS_URL, under a key prefix of this run.
if (await redisAvailable()) {
  const prefix = freshPrefix();
  const admin = testClient();
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  describeSignalChannelContract(
    async () => {
      const store = new RedisSignalChannel({ url: REDIS_URL, channelPrefix: prefix });
      return { store, cleanup: () => store.close() };
    },
    { name: 'redis' },
  );

  describeActionStoreContract(
    async () => {
      const store = new RedisActionStore({ client: admin, keyPrefix: prefix });
      return {
        store,
        corrupt: async ({ actionId }, mode) => {
          const key = store.recordKey(actionId);
          if (mode === 'malformed') await admin.set(key, '{"schemaVersion":1,"id":');
          else await admin.set(key, JSON.stringify({ ...JSON.parse((await admin.get(key)) as string), schemaVersion: 99 }));
        },
      };
    },
    { name: 'redis' },
  );

  describe('JobStore contract through RedisJobCache', () => {
    // The cache wraps the runtime's in-memory store, as it would wrap a Postgres one.
    let cache: RedisJobCache;
    let inner: InMemoryJobStore;
    beforeAll(() => {
      inner = new InMemoryJobStore();
      cache = new RedisJobCache({ store: inner, url: REDIS_URL, keyPrefix: `${prefix}${randomBytes(3).toString('hex')}:` });
    });
    afterAll(() => cache.close());
    describeJobStoreContract(
      () => ({
        store: cache,
        // A damaged row in the store of record and a damaged entry in the cache: the cache drops
        // its entry, reads the store, and the store's CorruptRecordError comes out.
        corrupt: async ({ scopeId, jobId, raw }) => {
          inner.plantRawForTesting({ scopeId, jobId, raw });
          await admin.hset(cache.cacheKey({ scopeId, jobId }), 'd', JSON.stringify(raw));
        },
      }),
      { name: 'redis job cache over InMemoryJobStore' },
    );
  });
} else {
  describe.skip('redis contracts (Redis unreachable)', () => {});
}
