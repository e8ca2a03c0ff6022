import { CorruptActionRecordError, InMemoryJobStore, type Signal } from '@baton/agent-runtime';
import { makeTestJobRecord, sampleActionRecord } from '@baton/agent-runtime/testing';
import { BatonError } from '@baton/llm-client';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisActionStore } from './actions/redis-action-store.js';
import { RedisAdapterClosedError } from './errors/redis-adapter-closed-error.js';
import { RedisCommandError } from './errors/redis-command-error.js';
import { RedisUnavailableError } from './errors/redis-unavailable-error.js';
import { RedisJobCache } from './jobs/redis-job-cache.js';
import { RedisSignalChannel } from './signals/redis-signal-channel.js';
import { deleteKeys, eventually, freshPrefix, redisAvailable, REDIS_URL, testClient } from './test-helpers/environment.js';

/** Nothing listens on port 1: connections are refused at once. */
const DEAD_URL = 'redis://127.0.0.1:1';
const fastFail = { maxRetriesPerRequest: 1, retryStrategy: (times: number) => (times > 3 ? null : 10) };

describe('Redis unreachable', () => {
  it('store calls fail with a retryable RedisUnavailableError, and connection errors are reported', async () => {
    const connectionErrors: unknown[] = [];
    const store = new RedisActionStore({ url: DEAD_URL, redisOptions: fastFail, onConnectionError: (e) => connectionErrors.push(e) });
    try {
      const error = await store.get({ scopeId: 's', actionId: 'a' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect(error).toMatchObject({ code: 'redis_unavailable', retryable: true, operation: 'action-store.get' });
      expect(BatonError.isInstance(error)).toBe(true);
      expect(connectionErrors[0]).toMatchObject({ code: 'redis_unavailable', driverCode: 'ECONNREFUSED' });
    } finally {
      await store.close();
    }
  });

  it('subscribing fails with RedisUnavailableError', async () => {
    const channels = new RedisSignalChannel({ url: DEAD_URL, redisOptions: fastFail });
    try {
      await expect(channels.subscribe('c', () => {})).rejects.toMatchObject({ code: 'redis_unavailable', retryable: true });
      await expect(channels.publish('c', { schemaVersion: 1, kind: 'job.cancelled', scopeId: 's', subjectId: 'j', at: 1 })).rejects.toBeInstanceOf(RedisUnavailableError);
    } finally {
      await channels.close();
    }
  });

  it('the job cache fails open: calls go to the store, the error to onCacheError', async () => {
    const errors: unknown[] = [];
    const store = new InMemoryJobStore();
    const cache = new RedisJobCache({ store, url: DEAD_URL, redisOptions: fastFail, onCacheError: (e) => errors.push(e) });
    try {
      const { job } = await cache.create(makeTestJobRecord({ scopeId: 's' }));
      expect(await cache.get({ scopeId: 's', jobId: job.id })).toEqual(job);
      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(errors.every((e) => e instanceof RedisUnavailableError)).toBe(true);
    } finally {
      await cache.close();
    }
  });
});

const available = await redisAvailable();

describe.skipIf(!available)('bad input and misuse', () => {
  const prefix = freshPrefix();
  let admin: Redis;
  let store: RedisActionStore;
  beforeAll(() => {
    admin = testClient();
    store = new RedisActionStore({ client: admin, keyPrefix: prefix });
  });
  afterAll(async () => {
    await store.close();
    expect(admin.status).toBe('ready'); // closing an adapter leaves a borrowed client open
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  it('a corrupt action planted with a raw SET fails every read with the runtime error naming the action, and changes nothing', async () => {
    const record = sampleActionRecord();
    await store.create(record);
    const planted = '{"schemaVersion":1,"id":"' + record.id + '","status":"pend';
    await admin.set(store.recordKey(record.id), planted);
    const reads: Array<() => Promise<unknown>> = [
      () => store.get({ scopeId: record.scopeId, actionId: record.id }),
      () => store.getByTokenHash({ scopeId: record.scopeId, tokenHash: record.tokenHash }),
      () => store.listByJob({ scopeId: record.scopeId, jobId: record.jobId }),
      () => store.listPending({ scopeId: record.scopeId }),
      () => store.listExpired({ now: record.expiresAt + 1, scopeId: record.scopeId }),
      () => store.compareAndSet({ record: { ...record, status: 'resolved' }, expectedVersion: 1 }),
    ];
    for (const read of reads) {
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptActionRecordError);
      expect(error).toMatchObject({ code: 'corrupt_action_record', actionId: record.id, retryable: false });
      expect((error as Error).message).toContain(record.id);
    }
    expect(await admin.get(store.recordKey(record.id))).toBe(planted);
    // A record that is JSON but not an action names the field.
    await admin.set(store.recordKey(record.id), JSON.stringify({ ...record, requiredApprovals: 'two' }));
    await expect(store.get({ scopeId: record.scopeId, actionId: record.id })).rejects.toThrow(/requiredApprovals/);
  });

  it('an invalid record is refused before anything is written', async () => {
    const record = sampleActionRecord();
    await expect(store.create({ ...record, tokenHash: 'short' })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(store.create({ ...record, version: 3 })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(await admin.exists(store.recordKey(record.id))).toBe(0);
    await expect(store.listPending({ scopeId: record.scopeId, limit: 0 })).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('a token hash already used by another action is refused on compare-and-set', async () => {
    const a = sampleActionRecord();
    const b = sampleActionRecord({ scopeId: a.scopeId });
    await store.create(a);
    await store.create(b);
    await expect(store.create({ ...sampleActionRecord(), tokenHash: a.tokenHash })).rejects.toMatchObject({ code: 'duplicate_action' });
    await expect(store.compareAndSet({ record: { ...b, tokenHash: a.tokenHash }, expectedVersion: 1 })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect((await store.get({ scopeId: b.scopeId, actionId: b.id }))?.version).toBe(1);
  });

  it('a key of the wrong type under the prefix is a RedisCommandError', async () => {
    const record = sampleActionRecord();
    await admin.set(`${prefix}action-job:${encodeURIComponent(record.scopeId)}:${encodeURIComponent(record.jobId)}`, 'not a sorted set');
    const error = await store.listByJob({ scopeId: record.scopeId, jobId: record.jobId }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisCommandError);
    expect(error).toMatchObject({ code: 'redis_command_failed', retryable: false });
    expect((error as RedisCommandError).reply).toMatch(/^WRONGTYPE/);
  });

  it('a closed adapter refuses calls with RedisAdapterClosedError', async () => {
    const closed = new RedisActionStore({ url: REDIS_URL, keyPrefix: prefix });
    await closed.close();
    await closed.close();
    await expect(closed.get({ scopeId: 's', actionId: 'a' })).rejects.toBeInstanceOf(RedisAdapterClosedError);
    const channels = new RedisSignalChannel({ url: REDIS_URL });
    await channels.close();
    await expect(channels.subscribe('c', () => {})).rejects.toMatchObject({ code: 'redis_adapter_closed' });
  });

  it('a payload on a signal channel that is not a signal goes to onHandlerError, not to handlers', async () => {
    const reported: unknown[] = [];
    const channels = new RedisSignalChannel({ url: REDIS_URL, channelPrefix: prefix, onHandlerError: (e) => reported.push(e) });
    try {
      const got: Signal[] = [];
      const unsubscribe = await channels.subscribe('c', (s) => void got.push(s));
      await admin.publish(`${prefix}c`, 'not json');
      await admin.publish(`${prefix}c`, JSON.stringify({ schemaVersion: 2, kind: 'job.cancelled', scopeId: 's', subjectId: 'j', at: 1 }));
      await channels.publish('c', { schemaVersion: 1, kind: 'job.cancelled', scopeId: 's', subjectId: 'ok', at: 1 });
      await eventually(() => got.length === 1 && reported.length === 2);
      expect(got[0]?.subjectId).toBe('ok');
      expect(reported[1]).toMatchObject({ code: 'invalid_argument' });
      // The last unsubscribe on a channel unsubscribes Redis too.
      expect(await admin.call('PUBSUB', 'NUMSUB', `${prefix}c`)).toEqual([`${prefix}c`, 1]);
      await unsubscribe();
      expect(await admin.call('PUBSUB', 'NUMSUB', `${prefix}c`)).toEqual([`${prefix}c`, 0]);
      await expect(channels.publish('c', { schemaVersion: 1, kind: 'job.cancelled', scopeId: '', subjectId: 'j', at: 1 })).rejects.toMatchObject({ code: 'invalid_argument' });
    } finally {
      await channels.close();
    }
  });
});
