import { sampleActionRecord } from '@baton/agent-runtime/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, freshPrefix, redisAvailable, testClient } from '../test-helpers/environment.js';
import { ActionKeys } from './action-keys.js';
import { COMPARE_AND_SET_ACTION, CREATE_ACTION } from './action-scripts.js';
import { RedisActionStore } from './redis-action-store.js';

const available = await redisAvailable();

describe.skipIf(!available)('RedisActionStore indexes and scripts', () => {
  const prefix = freshPrefix();
  let admin: Redis;
  let store: RedisActionStore;
  beforeAll(() => {
    admin = testClient();
    store = new RedisActionStore({ client: admin, keyPrefix: prefix });
  });
  afterAll(async () => {
    await store.close();
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  it('moves an action out of the pending and expiry indexes when it becomes final, and between jobs', async () => {
    const record = sampleActionRecord({ expiresAt: Date.now() - 1 });
    await store.create(record);
    const scope = { scopeId: record.scopeId };
    expect((await store.listPending(scope)).map((r) => r.id)).toEqual([record.id]);
    expect((await store.listExpired({ now: Date.now(), ...scope })).map((r) => r.id)).toEqual([record.id]);
    const moved = await store.compareAndSet({ record: { ...record, jobId: 'job-other' }, expectedVersion: 1 });
    expect(moved.ok).toBe(true);
    expect(await store.listByJob({ ...scope, jobId: record.jobId })).toEqual([]);
    expect((await store.listByJob({ ...scope, jobId: 'job-other' })).map((r) => r.version)).toEqual([2]);
    await store.compareAndSet({ record: { ...record, jobId: 'job-other', status: 'expired', resolvedBy: 'system:timeout' }, expectedVersion: 2 });
    expect(await store.listPending(scope)).toEqual([]);
    expect(await store.listExpired({ now: Date.now(), ...scope })).toEqual([]);
    expect((await store.listExpired({ now: Date.now(), limit: 10_000 })).map((r) => r.id)).not.toContain(record.id);
    const keys = new ActionKeys(prefix);
    expect(await admin.zscore(keys.expiry(), record.id)).toBeNull();
  });

  it('keeps ids and scopes containing separators apart', async () => {
    const a = sampleActionRecord({ scopeId: 'a:b', jobId: 'c' });
    const b = sampleActionRecord({ scopeId: 'a', jobId: 'b:c' });
    await store.create(a);
    await store.create(b);
    expect((await store.listByJob({ scopeId: 'a:b', jobId: 'c' })).map((r) => r.id)).toEqual([a.id]);
    expect((await store.listByJob({ scopeId: 'a', jobId: 'b:c' })).map((r) => r.id)).toEqual([b.id]);
  });

  it('a script resent after its first run applied (reply lost with the connection) reports success, once', async () => {
    const keys = new ActionKeys(prefix);
    const record = sampleActionRecord();
    const json = JSON.stringify(record);
    const createKeys = [keys.record(record.id), keys.token(record.tokenHash), keys.job(record.scopeId, record.jobId), keys.pending(record.scopeId), keys.expiry(), keys.scopeExpiry(record.scopeId)];
    const createArgs = [json, record.id, record.createdAt, record.expiresAt, '1'];
    expect(await CREATE_ACTION.run(admin, createKeys, createArgs)).toBe(1);
    expect(await CREATE_ACTION.run(admin, createKeys, createArgs)).toBe(1); // the resend
    expect(await CREATE_ACTION.run(admin, createKeys, [JSON.stringify({ ...record, title: 'other' }), ...createArgs.slice(1)])).toBe(0);

    const next = JSON.stringify({ ...record, status: 'resolved', version: 2 });
    const casKeys = [keys.record(record.id), keys.token(record.tokenHash), keys.token(record.tokenHash), keys.job(record.scopeId, record.jobId), keys.job(record.scopeId, record.jobId), keys.pending(record.scopeId), keys.expiry(), keys.scopeExpiry(record.scopeId)];
    const casArgs = [json, next, record.id, record.createdAt, record.expiresAt, '0'];
    expect(await COMPARE_AND_SET_ACTION.run(admin, casKeys, casArgs)).toEqual([1]);
    expect(await COMPARE_AND_SET_ACTION.run(admin, casKeys, casArgs)).toEqual([1]); // the resend
    // Another writer with the same expected version but a different record loses.
    const rival = JSON.stringify({ ...record, status: 'rejected', version: 2 });
    expect(await COMPARE_AND_SET_ACTION.run(admin, casKeys, [json, rival, ...casArgs.slice(2)])).toEqual([0, next]);
    expect(await store.get({ scopeId: record.scopeId, actionId: record.id })).toMatchObject({ status: 'resolved', version: 2 });
  });

  it('runs its scripts again after the server forgot them (SCRIPT FLUSH)', async () => {
    await admin.script('FLUSH');
    const record = sampleActionRecord();
    await store.create(record);
    expect(await store.get({ scopeId: record.scopeId, actionId: record.id })).toEqual(record);
  });
});
