import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestJobRecord } from '@baton/agent-runtime/testing';
import { PostgresEventBus } from '../events/postgres-event-bus.js';
import { PostgresJobQueue } from '../queue/postgres-job-queue.js';
import { pruneFinished } from '../retention/prune-finished.js';
import { PostgresJobStore } from '../stores/postgres-job-store.js';
import { PostgresJournalStore } from '../stores/postgres-journal-store.js';
import type { TestBackend } from './backends.js';

const scopeId = 'scope-orphans';
const t0 = 1_800_000_000_000;
const ttl = { olderThanMs: 30_000, now: () => t0 + 60_000 };
const TABLES = ['journalEntries', 'journalHeads', 'sharedData', 'sharedLog', 'deferredEvents', 'eventSeqs', 'events', 'queue'] as const;
type Counts = Record<(typeof TABLES)[number], number>;

/** The job `ref` (running, updated at `at`) with rows in every per-job table, two in those keyed past the job id. */
export async function writeJobRows(
  s: { jobs: PostgresJobStore; journal: PostgresJournalStore; bus: PostgresEventBus; queue: PostgresJobQueue },
  ref: { scopeId: string; jobId: string },
  at: number,
): Promise<void> {
  const { jobId } = ref;
  await s.jobs.create(makeTestJobRecord({ ...ref, id: jobId, status: 'running', updatedAt: at }));
  for (const seq of [0, 1]) await s.journal.append({ ...ref, kind: 'custom', name: `s${seq}`, status: 'completed', startedAt: at, durationMs: 1 }, { expectedSeq: seq });
  await s.journal.setSharedData({ ...ref, values: { a: 1, b: 2 } });
  await s.journal.appendSharedLog({ ...ref, entries: ['x', 'y'] });
  await s.journal.addDeferredEvents({ ...ref, events: [{ type: 'checkpoint.saved', data: { seq: 0, key: `${jobId}:0` } }] });
  for (const seq of [0, 1]) await s.bus.publish({ type: 'checkpoint.saved', ...ref, data: { seq, key: `${jobId}:${seq}` } });
  await s.queue.enqueue(ref);
}

/**
 * `pruneFinished`'s orphan pass: rows of job ids whose job record was deleted by hand are removed
 * once past the TTL, and the rows of live jobs stay. Each test has a schema of its own.
 */
export function describeRetentionOrphans(backend: TestBackend): void {
  describe(`pruneFinished orphans: ${backend.name}`, () => {
    beforeAll(async () => {
      await backend.client();
    });
    afterAll(() => backend.close());

    async function setup() {
      const database = await backend.freshDatabase();
      let clock = t0;
      const now = () => clock;
      const bus = new PostgresEventBus({ database, now });
      const stores = {
        database,
        jobs: new PostgresJobStore({ database }),
        journal: new PostgresJournalStore({ database, now }),
        bus,
        queue: new PostgresJobQueue({ database, now }),
        at: (ms: number) => void (clock = ms),
      };
      return stores;
    }
    type Stores = Awaited<ReturnType<typeof setup>>;

    /** A job with a row in every per-job table, all written at `t0`. */
    async function jobWithRows(s: Stores, jobId: string): Promise<void> {
      s.at(t0);
      await writeJobRows(s, { scopeId, jobId }, t0);
    }

    async function deleteJobs(s: Stores, ...ids: string[]): Promise<void> {
      await s.database.client.query(`DELETE FROM ${s.database.tables.jobs} WHERE scope_id = $1 AND id = ANY($2::text[])`, [scopeId, ids]);
    }

    async function rowsOf(s: Stores, jobId: string): Promise<Counts> {
      const counts = {} as Counts;
      for (const table of TABLES) {
        const { rows } = await s.database.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s.database.tables[table]} WHERE scope_id = $1 AND job_id = $2`, [scopeId, jobId]);
        counts[table] = Number(rows[0]?.n ?? 0);
      }
      return counts;
    }
    const none: Counts = Object.fromEntries(TABLES.map((table) => [table, 0])) as Counts;
    const total = (counts: Counts) => TABLES.reduce((n, table) => n + counts[table], 0);

    it("removes every row of jobs deleted by hand once past the TTL, in batches, and leaves live jobs' rows alone", async () => {
      const s = await setup();
      for (const id of ['live', 'orphan-1', 'orphan-2']) await jobWithRows(s, id);
      const before = { live: await rowsOf(s, 'live'), orphan1: await rowsOf(s, 'orphan-1'), orphan2: await rowsOf(s, 'orphan-2') };
      expect(Object.values(before.orphan1).every((n) => n > 0)).toBe(true);
      await deleteJobs(s, 'orphan-1', 'orphan-2');

      const result = await pruneFinished(s.database, { ...ttl, batchSize: 2 });
      expect(result).toEqual({ jobs: 0, rows: 0, orphans: total(before.orphan1) + total(before.orphan2) });
      expect(await rowsOf(s, 'orphan-1')).toEqual(none);
      expect(await rowsOf(s, 'orphan-2')).toEqual(none);
      expect(await rowsOf(s, 'live')).toEqual(before.live);
      expect((await s.journal.list({ scopeId, jobId: 'live' })).map((e) => e.seq)).toEqual([0, 1]);
      expect(await pruneFinished(s.database, ttl)).toEqual({ jobs: 0, rows: 0, orphans: 0 });
      await s.bus.close();
    });

    it('leaves orphans alone with orphans: false, and before the TTL', async () => {
      const s = await setup();
      await jobWithRows(s, 'orphan');
      const before = await rowsOf(s, 'orphan');
      await deleteJobs(s, 'orphan');
      expect(await pruneFinished(s.database, { ...ttl, orphans: false })).toEqual({ jobs: 0, rows: 0, orphans: 0 });
      expect(await pruneFinished(s.database, { olderThanMs: 30_000, now: () => t0 + 20_000 })).toEqual({ jobs: 0, rows: 0, orphans: 0 });
      expect(await rowsOf(s, 'orphan')).toEqual(before);
      await s.bus.close();
    });

    it('keeps a job id with an event inside the TTL, timed rows newer than the TTL, and a queue row under a live lease', async () => {
      const s = await setup();
      // A queue row leased until after now.
      await jobWithRows(s, 'leased');
      s.at(t0 + 59_000);
      const claim = await s.queue.claim({ workerId: 'w', leaseMs: 60_000, limit: 10 });
      expect(claim.jobs.map((j) => j.jobId)).toEqual(['leased']);
      // An event inside the window: the job id is in use, nothing of it goes.
      await jobWithRows(s, 'recent-event');
      s.at(t0 + 50_000);
      await s.bus.publish({ type: 'checkpoint.saved', scopeId, jobId: 'recent-event', data: { seq: 2, key: 'recent-event:2' } });
      const recent = await rowsOf(s, 'recent-event');
      // A shared log written inside the window, no events: the untimed rows go, the young log stays.
      await jobWithRows(s, 'young-log');
      await s.database.client.query(`DELETE FROM ${s.database.tables.events} WHERE job_id = 'young-log'`);
      s.at(t0 + 50_000);
      await s.journal.appendSharedLog({ scopeId, jobId: 'young-log', entries: ['late'] });
      await deleteJobs(s, 'recent-event', 'young-log', 'leased');

      const result = await pruneFinished(s.database, ttl);
      expect(await rowsOf(s, 'recent-event')).toEqual(recent);
      expect(await rowsOf(s, 'young-log')).toEqual({ ...none, sharedLog: 1 });
      const leased = await rowsOf(s, 'leased');
      expect(leased.queue).toBe(1);
      expect(total(leased)).toBe(1);
      expect(result.orphans).toBeGreaterThan(0);
      await s.bus.close();
    });
  });
}
