import { InMemoryEventBus, InMemoryJobStore, type Signal } from '@baton/agent-runtime';
import { makeTestJobRecord, sampleActionRecord } from '@baton/agent-runtime/testing';
import { describe, expect, it } from 'vitest';
import { RedisActionStore } from './actions/redis-action-store.js';
import { RedisJobCache } from './jobs/redis-job-cache.js';
import { RedisSignalChannel } from './signals/redis-signal-channel.js';
import { RedisStreamsAdapter } from './streams/redis-streams-adapter.js';
import { eventually, killConnections, redisAvailable, REDIS_URL, useTestPrefix } from './test-helpers/environment.js';

const available = await redisAvailable();

// Connections killed from another connection (CLIENT KILL ID, only this run's, found by name):
// ioredis reconnects, and the next operation goes through on the new connection.
describe.skipIf(!available)('connections killed mid-run', () => {
  const { prefix, tag, admin } = useTestPrefix();

  it('the action store reconnects; operations in flight and after succeed', async () => {
    const name = `baton-test-actions-${tag}`;
    const store = new RedisActionStore({ url: REDIS_URL, keyPrefix: prefix, connectionName: name });
    try {
      const record = sampleActionRecord();
      await store.create(record);
      expect(await killConnections(admin(), name)).toBe(1);
      expect(await store.get({ scopeId: record.scopeId, actionId: record.id })).toEqual(record);
      // Kill it again while a burst of writes is in flight: each completes once.
      const writes = Array.from({ length: 20 }, () => sampleActionRecord({ scopeId: record.scopeId, jobId: record.jobId }));
      const done = Promise.all(writes.map((r) => store.create(r)));
      await killConnections(admin(), name);
      await done;
      const cas = await store.compareAndSet({ record: { ...record, status: 'resolved', resolvedBy: 'alice' }, expectedVersion: 1 });
      expect(cas.ok).toBe(true);
      expect(await store.listByJob({ scopeId: record.scopeId, jobId: record.jobId })).toHaveLength(21);
    } finally {
      await store.close();
    }
  });

  it('the job cache reconnects and keeps serving', async () => {
    const name = `baton-test-cache-${tag}`;
    const errors: unknown[] = [];
    const cache = new RedisJobCache({ store: new InMemoryJobStore(), url: REDIS_URL, keyPrefix: prefix, connectionName: name, onCacheError: (e) => errors.push(e) });
    try {
      const { job } = await cache.create(makeTestJobRecord({ scopeId: 'scope-kill' }));
      await killConnections(admin(), name);
      const next = await cache.update({ ...job, status: 'running' });
      expect(await cache.get({ scopeId: job.scopeId, jobId: job.id })).toEqual(next);
      expect(await admin().hget(cache.cacheKey({ scopeId: job.scopeId, jobId: job.id }), 'v')).toBe('2');
      expect(errors).toEqual([]);
    } finally {
      await cache.close();
    }
  });

  it('a killed subscriber connection subscribes again and receives later signals', async () => {
    const name = `baton-test-signals-${tag}`;
    const channels = new RedisSignalChannel({ url: REDIS_URL, channelPrefix: prefix, connectionName: name });
    try {
      const got: Signal[] = [];
      const unsubscribe = await channels.subscribe('wake', (s) => void got.push(s));
      const signal = (subjectId: string): Signal => ({ schemaVersion: 1, kind: 'action.resolved', scopeId: 's', subjectId, at: Date.now() });
      await channels.publish('wake', signal('before'));
      await eventually(() => got.length === 1);
      expect(await killConnections(admin(), `${name}:sub`)).toBe(1);
      // Signals sent while it reconnects are lost (at most once); keep sending until one arrives.
      let n = 0;
      await eventually(async () => {
        await channels.publish('wake', signal(`after-${++n}`));
        await new Promise((resolve) => setTimeout(resolve, 20));
        return got.some((s) => s.subjectId.startsWith('after-'));
      }, 5_000, 'a signal after the kill');
      // The subscription is back for good: the next one arrives too.
      await channels.publish('wake', signal('last'));
      await eventually(() => got.some((s) => s.subjectId === 'last'));
      expect((await admin().call('PUBSUB', 'NUMSUB', `${prefix}wake`)) as unknown[]).toEqual([`${prefix}wake`, 1]);
      await unsubscribe();
    } finally {
      await channels.close();
    }
  });

  it('the streams adapter reconnects; no event is lost across the kill', async () => {
    const name = `baton-test-streams-${tag}`;
    const bus = new InMemoryEventBus();
    const streams = new RedisStreamsAdapter(bus, { url: REDIS_URL, streamPrefix: `${prefix}events`, connectionName: name, batchSize: 20 });
    try {
      for (let i = 0; i < 100; i++) void bus.publish({ type: 'model.delta', scopeId: 'acme', jobId: 'job-1', data: { model: 'm', textDelta: `${i}` } });
      await new Promise((resolve) => setImmediate(resolve));
      await killConnections(admin(), name);
      for (let i = 100; i < 200; i++) void bus.publish({ type: 'model.delta', scopeId: 'acme', jobId: 'job-1', data: { model: 'm', textDelta: `${i}` } });
      await streams.flush();
      expect(streams.stats.failed).toBe(0);
      const entries = await streams.readEvents(streams.streamFor('acme'), { count: 1_000 });
      // At least once: a pipeline cut mid-flight is resent, so a seq may appear twice, none is missing.
      expect(new Set(entries.map((e) => e.event.seq)).size).toBe(200);
    } finally {
      await streams.close();
    }
  });
});
