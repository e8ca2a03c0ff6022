import { InMemoryJobStore, JobStore, type JobRecord, type JobRef } from '@baton/agent-runtime';
import { makeTestJobRecord } from '@baton/agent-runtime/testing';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { deleteKeys, freshPrefix, redisAvailable, REDIS_URL, testClient } from '../test-helpers/environment.js';
import { RedisJobCache } from './redis-job-cache.js';

const available = await redisAvailable();

/** A store whose next `get` can be held until the test releases it. */
class GatedStore extends InMemoryJobStore {
  gate: Promise<void> | undefined;
  override async get(ref: JobRef): Promise<JobRecord | undefined> {
    const record = await super.get(ref);
    if (this.gate) await this.gate;
    return record;
  }
}

describe.skipIf(!available)('RedisJobCache consistency', () => {
  const prefix = freshPrefix();
  let admin: Redis;
  let caches: RedisJobCache[];
  let scope: string;
  let n = 0;
  beforeAll(() => {
    admin = testClient();
  });
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    await admin.quit();
  });
  beforeEach(() => {
    caches = [];
    scope = `scope-${++n}`;
  });
  afterEach(async () => {
    await Promise.all(caches.map((c) => c.close()));
  });

  function cache(store: JobStore, options: { ttlMs?: number; onCacheError?: (e: unknown) => void } = {}): RedisJobCache {
    // Each instance has its own connection, as caches on two hosts would.
    const c = new RedisJobCache({ store, url: REDIS_URL, keyPrefix: prefix, ...options });
    caches.push(c);
    return c;
  }

  it('reads through once, then serves from Redis with a TTL', async () => {
    const store = new InMemoryJobStore();
    const { job } = await store.create(makeTestJobRecord({ scopeId: scope }));
    const c = cache(store, { ttlMs: 30_000 });
    const reads = vi.spyOn(store, 'get');
    expect(await c.get({ scopeId: scope, jobId: job.id })).toEqual(job);
    expect(await c.get({ scopeId: scope, jobId: job.id })).toEqual(job);
    expect(reads).toHaveBeenCalledTimes(1);
    const ttl = await admin.pttl(c.cacheKey({ scopeId: scope, jobId: job.id }));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(await c.get({ scopeId: scope, jobId: 'missing' })).toBeUndefined();
  });

  it('a write through one instance is what every other instance reads next', async () => {
    const store = new InMemoryJobStore(); // the shared store of record (a database)
    const hostA = cache(store);
    const hostB = cache(store);
    const { job } = await hostA.create(makeTestJobRecord({ scopeId: scope }));
    expect(await hostA.get({ scopeId: scope, jobId: job.id })).toEqual(job);
    const next = await hostB.update({ ...job, status: 'running', attempts: 1 });
    const reads = vi.spyOn(store, 'get');
    expect(await hostA.get({ scopeId: scope, jobId: job.id })).toEqual(next);
    expect(reads).not.toHaveBeenCalled();
  });

  it('a slow reader cannot put back an older version than a concurrent writer cached', async () => {
    const store = new GatedStore();
    const hostA = cache(store);
    const hostB = cache(store);
    const { job } = await store.create(makeTestJobRecord({ scopeId: scope })); // not cached
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    const slowRead = hostA.get({ scopeId: scope, jobId: job.id }); // reads version 1, then waits
    await new Promise((resolve) => setTimeout(resolve, 20));
    store.gate = undefined;
    const next = await hostB.update({ ...job, status: 'running' }); // caches version 2
    release();
    expect((await slowRead)?.version).toBe(1); // what it read, as a direct read would
    expect(await hostA.get({ scopeId: scope, jobId: job.id })).toEqual(next);
    expect(await admin.hget(hostA.cacheKey({ scopeId: scope, jobId: job.id }), 'v')).toBe('2');
  });

  it('a write that bypassed the cache is seen after invalidate, or when a stale update is refused', async () => {
    const store = new InMemoryJobStore();
    const c = cache(store);
    const { job } = await c.create(makeTestJobRecord({ scopeId: scope }));
    const direct = await store.update({ ...job, status: 'running' }); // straight to the store
    expect((await c.get({ scopeId: scope, jobId: job.id }))?.version).toBe(1); // stale until the TTL…
    await c.invalidate({ scopeId: scope, jobId: job.id });
    expect(await c.get({ scopeId: scope, jobId: job.id })).toEqual(direct); // …or an invalidate

    const again = await store.update({ ...direct, status: 'completed' });
    const stale = await c.get({ scopeId: scope, jobId: job.id });
    expect(stale?.version).toBe(2);
    // The writer acting on the stale copy is refused by the store, and the entry goes with it.
    await expect(c.update({ ...(stale as JobRecord), metadata: { x: 1 } })).rejects.toMatchObject({ code: 'concurrent_modification' });
    expect(await c.get({ scopeId: scope, jobId: job.id })).toEqual(again);
  });

  it('drops a cached entry that does not parse, reports it, and reads the store', async () => {
    const errors: unknown[] = [];
    const store = new InMemoryJobStore();
    const c = cache(store, { onCacheError: (e) => errors.push(e) });
    const { job } = await c.create(makeTestJobRecord({ scopeId: scope }));
    const key = c.cacheKey({ scopeId: scope, jobId: job.id });
    await admin.hset(key, 'd', JSON.stringify({ ...job, schemaVersion: 42 }));
    expect(await c.get({ scopeId: scope, jobId: job.id })).toEqual(job);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'corrupt_record', recordId: job.id });
    expect(JSON.parse((await admin.hget(key, 'd')) as string)).toEqual(job); // cached again, valid
    await admin.set(key, 'a string, not a hash');
    expect(await c.get({ scopeId: scope, jobId: job.id })).toEqual(job);
    expect(errors[1]).toMatchObject({ code: 'redis_command_failed' });
  });
});
