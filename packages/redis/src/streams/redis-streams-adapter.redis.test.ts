import { InMemoryEventBus, type RuntimeEvent } from '@baton/agent-runtime';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CorruptStreamEntryError } from '../errors/corrupt-stream-entry-error.js';
import { RedisCommandError } from '../errors/redis-command-error.js';
import { deleteKeys, eventually, freshPrefix, redisAvailable, REDIS_URL, testClient } from '../test-helpers/environment.js';
import { RedisStreamsAdapter, type RedisStreamsAdapterOptions } from './redis-streams-adapter.js';

const available = await redisAvailable();

describe.skipIf(!available)('RedisStreamsAdapter', () => {
  const prefix = freshPrefix();
  let admin: Redis;
  let bus: InMemoryEventBus;
  let adapters: RedisStreamsAdapter[];
  let n = 0;
  beforeAll(() => {
    admin = testClient();
  });
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    await admin.quit();
  });
  beforeEach(() => {
    bus = new InMemoryEventBus({ maxEventsPerJob: 100_000 });
    adapters = [];
  });
  afterEach(async () => {
    await Promise.all(adapters.map((a) => a.close()));
  });

  function adapter(options: Partial<RedisStreamsAdapterOptions> = {}): RedisStreamsAdapter {
    const a = new RedisStreamsAdapter(bus, { url: REDIS_URL, streamPrefix: `${prefix}events-${++n}`, ...options } as RedisStreamsAdapterOptions);
    adapters.push(a);
    return a;
  }

  function delta(scopeId: string, jobId: string, text: string): Promise<RuntimeEvent> {
    return bus.publish({ type: 'model.delta', scopeId, jobId, data: { model: 'm', textDelta: text } });
  }

  it("writes each event to its scope's stream and reads them back validated, in order", async () => {
    const a = adapter();
    const sent = [await delta('acme', 'job-1', 'a'), await delta('globex', 'job-2', 'b'), await delta('acme', 'job-1', 'c')];
    await bus.publish({ type: 'job.completed', scopeId: 'acme', jobId: 'job-1', data: { from: 'running', result: { ok: true } } });
    await a.flush();
    const acme = await a.readEvents(a.streamFor('acme'));
    expect(acme.map((e) => e.event.type)).toEqual(['model.delta', 'model.delta', 'job.completed']);
    expect(acme[0]?.event).toEqual(sent[0]);
    expect(acme.map((e) => e.event.seq)).toEqual([1, 2, 3]);
    expect((await a.readEvents(a.streamFor('globex'))).map((e) => e.event)).toEqual([sent[1]]);
    // Paging: after an id (exclusive), from an id (inclusive), a count.
    const page = await a.readEvents(a.streamFor('acme'), { afterId: acme[0]?.id, count: 1 });
    expect(page.map((e) => e.id)).toEqual([acme[1]?.id]);
    expect((await a.readEvents(a.streamFor('acme'), { fromId: acme[1]?.id })).map((e) => e.id)).toEqual([acme[1]?.id, acme[2]?.id]);
  });

  it('puts every event in one stream when partition is single', async () => {
    const a = adapter({ partition: 'single' });
    await delta('acme', 'job-1', 'a');
    await delta('globex', 'job-2', 'b');
    await a.flush();
    expect(a.streamFor('acme')).toBe(a.streamFor('globex'));
    expect((await a.readEvents(a.streamFor('any'))).map((e) => e.event.scopeId)).toEqual(['acme', 'globex']);
    expect(await a.deleteStream(a.streamFor('any'))).toBe(true);
    expect(await a.deleteStream(a.streamFor('any'))).toBe(false);
    expect(await a.readEvents(a.streamFor('any'))).toEqual([]);
  });

  it('keeps the filtered events only', async () => {
    const a = adapter({ filter: { eventTypes: ['job.completed'] } });
    await delta('acme', 'job-1', 'a');
    await bus.publish({ type: 'job.completed', scopeId: 'acme', jobId: 'job-1', data: { from: 'running' } });
    await a.flush();
    expect((await a.readEvents(a.streamFor('acme'))).map((e) => e.event.type)).toEqual(['job.completed']);
  });

  it('trims each stream to about maxLen entries', async () => {
    const a = adapter({ maxLen: 100 });
    for (let i = 0; i < 1_500; i++) void delta('acme', 'job-1', `t${i}`);
    await a.flush();
    expect(a.stats).toMatchObject({ written: 1_500, failed: 0 });
    const length = await admin.xlen(a.streamFor('acme'));
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(400);
    const last = await admin.xrevrange(a.streamFor('acme'), '+', '-', 'COUNT', 1);
    expect(JSON.parse(last[0]?.[1][1] as string).data.textDelta).toBe('t1499');
  });

  it('batches a burst into few pipelines, with at most maxInFlightBatches in flight', async () => {
    const client = testClient();
    let pipelines = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const original = client.pipeline.bind(client);
    vi.spyOn(client, 'pipeline').mockImplementation((...args: Parameters<Redis['pipeline']>) => {
      pipelines++;
      const pipeline = original(...args);
      const exec = pipeline.exec.bind(pipeline);
      pipeline.exec = (async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          return await exec();
        } finally {
          inFlight--;
        }
      }) as typeof pipeline.exec;
      return pipeline;
    });
    try {
      const a = adapter({ client, url: undefined, batchSize: 100, maxInFlightBatches: 2 });
      for (let i = 0; i < 2_000; i++) void delta('acme', `job-${i % 7}`, `t${i}`);
      await a.flush();
      expect(a.stats).toMatchObject({ written: 2_000, failed: 0, buffered: 0, inFlightBatches: 0 });
      expect(await admin.xlen(a.streamFor('acme'))).toBe(2_000);
      expect(pipelines).toBeGreaterThanOrEqual(20);
      expect(pipelines).toBeLessThanOrEqual(40);
      expect(maxInFlight).toBeLessThanOrEqual(2);
      await a.close();
      expect(client.status).toBe('ready'); // a borrowed client stays open
    } finally {
      client.disconnect();
    }
  });

  it("keeps each job's order across pipelines in flight: a job's later events wait for its slow pipeline", async () => {
    const client = testClient();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sent: string[][] = [];
    const original = client.pipeline.bind(client);
    vi.spyOn(client, 'pipeline').mockImplementation((...args: Parameters<Redis['pipeline']>) => {
      const pipeline = original(...args);
      const jobs: string[] = [];
      const xadd = pipeline.xadd.bind(pipeline) as (...a: unknown[]) => unknown;
      pipeline.xadd = ((...a: unknown[]) => {
        jobs.push((JSON.parse(String(a.at(-1))) as RuntimeEvent).jobId);
        return xadd(...a);
      }) as unknown as typeof pipeline.xadd;
      const exec = pipeline.exec.bind(pipeline);
      const first = sent.length === 0;
      pipeline.exec = (async () => {
        sent.push(jobs);
        if (first) await gate; // the first pipeline is slow to leave
        return exec();
      }) as typeof pipeline.exec;
      return pipeline;
    });
    try {
      const a = adapter({ client, url: undefined, maxInFlightBatches: 4 });
      await delta('acme', 'job-1', 'a');
      await eventually(() => sent.length === 1);
      await delta('acme', 'job-1', 'b');
      await delta('acme', 'job-2', 'c');
      await eventually(() => sent.length === 2);
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(sent).toEqual([['job-1'], ['job-2']]); // job-1's second event waits for its first
      release();
      await a.flush();
      const entries = await a.readEvents(a.streamFor('acme'));
      expect(entries.filter((e) => e.event.jobId === 'job-1').map((e) => e.event.seq)).toEqual([1, 2]);
      expect(a.stats).toMatchObject({ written: 3, failed: 0, inFlightBatches: 0 });
      await a.close();
    } finally {
      client.disconnect();
    }
  });

  it('writes what it holds on close', async () => {
    const a = adapter({ batchSize: 50, maxInFlightBatches: 1 });
    for (let i = 0; i < 700; i++) void delta('acme', 'job-1', `t${i}`);
    await a.close();
    expect(await admin.xlen(a.streamFor('acme'))).toBe(700);
    await delta('acme', 'job-1', 'after close');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await admin.xlen(a.streamFor('acme'))).toBe(700);
  });

  it('drops the oldest events past maxBuffered, says which, and never holds up the publisher', async () => {
    const gaps: Array<{ dropped: number; first: { seq: number }; last: { seq: number } }> = [];
    const a = adapter({ batchSize: 10, maxInFlightBatches: 1, maxBuffered: 50, onGap: (gap) => gaps.push(gap) });
    for (let i = 0; i < 500; i++) void delta('acme', 'job-1', `t${i}`);
    await a.flush();
    const dropped = gaps.reduce((sum, g) => sum + g.dropped, 0);
    expect(dropped).toBeGreaterThan(0);
    const written = await admin.xlen(a.streamFor('acme'));
    expect(written + dropped).toBe(500);
    expect(a.stats.written).toBe(written);
    // The newest events are the ones kept.
    const last = await a.readEvents(a.streamFor('acme'), { afterId: '0', count: 1_000 });
    expect(last.at(-1)?.event.seq).toBe(500);
  });

  it('reports failed writes with the number of events lost', async () => {
    const errors: Array<{ error: unknown; events: number }> = [];
    const a = adapter({ onError: (error, info) => errors.push({ error, events: info.events }) });
    await admin.set(a.streamFor('acme'), 'not a stream');
    await delta('acme', 'job-1', 'a');
    await delta('acme', 'job-1', 'b');
    await delta('globex', 'job-2', 'c');
    await a.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toBeInstanceOf(RedisCommandError);
    expect(errors[0]?.events).toBe(2);
    expect(a.stats).toMatchObject({ written: 1, failed: 2 });
  });

  describe('consumer groups', () => {
    it('creates a group once, delivers new entries, re-reads pending ones until acked', async () => {
      const a = adapter();
      const stream = a.streamFor('acme');
      expect(await a.createGroup(stream, 'workers')).toBe(true);
      expect(await a.createGroup(stream, 'workers')).toBe(false);
      for (const t of ['a', 'b', 'c']) await delta('acme', 'job-1', t);
      await a.flush();
      const first = await a.readGroup(stream, 'workers', 'w1', { count: 2 });
      expect(first.map((e) => (e.event.data as { textDelta: string }).textDelta)).toEqual(['a', 'b']);
      const second = await a.readGroup(stream, 'workers', 'w2');
      expect(second.map((e) => (e.event.data as { textDelta: string }).textDelta)).toEqual(['c']);
      expect(await a.ack(stream, 'workers', [first[0]?.id as string])).toBe(1);
      const pending = await a.readGroup(stream, 'workers', 'w1', { pending: true });
      expect(pending.map((e) => e.id)).toEqual([first[1]?.id]);
      expect(await a.readGroup(stream, 'workers', 'w1')).toEqual([]);
    });

    it('blocks on its own connection while writes go on', async () => {
      const a = adapter();
      const stream = a.streamFor('acme');
      await a.createGroup(stream, 'g', { startId: '$' });
      const started = Date.now();
      const read = a.readGroup(stream, 'g', 'c1', { blockMs: 5_000 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await delta('acme', 'job-1', 'late');
      await a.flush(); // would wait for the block to end if it shared the connection
      const got = await read;
      expect(got.map((e) => (e.event.data as { textDelta: string }).textDelta)).toEqual(['late']);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('returns no entries when a block times out', async () => {
      const a = adapter();
      const stream = a.streamFor('acme');
      await a.createGroup(stream, 'g');
      expect(await a.readGroup(stream, 'g', 'c1', { blockMs: 20 })).toEqual([]);
    });
  });

  describe('bad entries', () => {
    it('readEvents throws a typed error naming the stream and the entry', async () => {
      const a = adapter();
      const stream = a.streamFor('acme');
      await delta('acme', 'job-1', 'good');
      await a.flush();
      const badJson = await admin.xadd(stream, '*', 'event', '{"schemaVersion":1,');
      const error = await a.readEvents(stream).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptStreamEntryError);
      expect(error).toMatchObject({ code: 'corrupt_stream_entry', stream, entryId: badJson });
      const good = await a.readEvents(stream, { count: 1 });
      const unknownVersion = await admin.xadd(stream, '*', 'event', JSON.stringify({ ...good[0]?.event, schemaVersion: 7 }));
      const versionError = await a.readEvents(stream, { afterId: badJson as string }).catch((e: unknown) => e);
      expect(versionError).toMatchObject({ entryId: unknownVersion, cause: { code: 'corrupt_record' } });
      expect(String((versionError as Error).message)).toMatch(/schema version/);
    });

    it('readGroup returns the good entries, reports the bad one and leaves it pending', async () => {
      const errors: unknown[] = [];
      const a = adapter({ onError: (error) => errors.push(error) });
      const stream = a.streamFor('acme');
      await a.createGroup(stream, 'g');
      await delta('acme', 'job-1', 'one');
      await a.flush();
      const bad = await admin.xadd(stream, '*', 'other', 'field');
      await delta('acme', 'job-1', 'two');
      await a.flush();
      const got = await a.readGroup(stream, 'g', 'c1');
      expect(got.map((e) => (e.event.data as { textDelta: string }).textDelta)).toEqual(['one', 'two']);
      await a.ack(stream, 'g', got.map((e) => e.id));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ code: 'corrupt_stream_entry', entryId: bad });
      const pending = (await admin.xpending(stream, 'g')) as [number, ...unknown[]];
      expect(pending[0]).toBe(1);
    });
  });
});
