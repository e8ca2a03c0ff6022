import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonDatabase } from '../database.js';
import { PostgresEventBus } from '../events/postgres-event-bus.js';
import { PostgresJobQueue } from '../queue/postgres-job-queue.js';
import { pruneFinished } from '../retention/prune-finished.js';
import { PostgresJobStore } from '../stores/postgres-job-store.js';
import { PostgresJournalStore } from '../stores/postgres-journal-store.js';
import type { TestBackend } from './backends.js';
import { writeJobRows } from './retention-suite.js';

const scopeId = 'scope-orphan-scan';
const t0 = 1_800_000_000_000;
const ttl = { olderThanMs: 30_000, now: () => t0 + 60_000 };
const TABLES = ['journalEntries', 'journalHeads', 'sharedData', 'sharedLog', 'deferredEvents', 'eventSeqs', 'events', 'queue'] as const;
type Table = (typeof TABLES)[number];

/**
 * `pruneFinished`'s orphan pass is bounded: a call reads at most `orphanScanRows` rows of each
 * table, in key order from where the previous call on the same database stopped, so an orphan
 * past that many rows waits for a later call. Each test has a schema of its own.
 */
export function describeOrphanScanBound(backend: TestBackend): void {
  describe(`pruneFinished orphan scan bound: ${backend.name}`, () => {
    beforeAll(async () => {
      await backend.client();
    });
    afterAll(() => backend.close());

    async function setup() {
      const database = await backend.freshDatabase();
      const now = () => t0;
      return {
        database,
        jobs: new PostgresJobStore({ database }),
        journal: new PostgresJournalStore({ database, now }),
        bus: new PostgresEventBus({ database, now }),
        queue: new PostgresJobQueue({ database, now }),
      };
    }
    type Stores = Awaited<ReturnType<typeof setup>>;

    /** A job with rows in every per-job table (two in the tables keyed past the job id), all written at `t0`. */
    async function jobWithRows(s: Stores, jobId: string): Promise<void> {
      await writeJobRows(s, { scopeId, jobId }, t0);
    }

    /** Each table's rows, as their job ids, in key order (a job's rows are next to each other). */
    async function jobIdsInKeyOrder(s: Stores): Promise<Record<Table, string[]>> {
      const out = {} as Record<Table, string[]>;
      for (const table of TABLES) {
        const { rows } = await s.database.client.query<{ job_id: string }>(`SELECT job_id FROM ${s.database.tables[table]} ORDER BY scope_id, job_id`);
        out[table] = rows.map((r) => r.job_id);
      }
      return out;
    }

    it('reads at most orphanScanRows rows of each table per call, goes on from there in the next call, and starts over after the end', async () => {
      const s = await setup();
      const live = ['a-live-1', 'a-live-2'];
      const orphaned = ['b-orphan-1', 'b-orphan-2', 'b-orphan-3'];
      for (const id of [...live, ...orphaned]) await jobWithRows(s, id);
      await s.database.client.query(`DELETE FROM ${s.database.tables.jobs} WHERE id = ANY($1::text[])`, [orphaned]);
      const before = await jobIdsInKeyOrder(s);

      // What a walk of `scanRows` rows per call leaves of each table after each call: a call reads
      // the next `scanRows` rows after the previous call's last one, removing the orphans among them;
      // a call that reads fewer reached the end, and the next one starts at the beginning.
      const scanRows = 3;
      const expected: Array<Record<Table, string[]>> = [];
      const walk = Object.fromEntries(TABLES.map((table) => [table, { rows: [...before[table]], at: 0 }])) as Record<Table, { rows: string[]; at: number }>;
      while (expected.length === 0 || TABLES.some((table) => expected[expected.length - 1]![table].some((id) => orphaned.includes(id)))) {
        for (const table of TABLES) {
          const w = walk[table];
          const read = w.rows.slice(w.at, w.at + scanRows);
          const kept = read.filter((id) => !orphaned.includes(id));
          w.rows.splice(w.at, read.length, ...kept);
          w.at = read.length < scanRows ? 0 : w.at + kept.length;
        }
        expected.push(Object.fromEntries(TABLES.map((table) => [table, [...walk[table].rows]])) as Record<Table, string[]>);
      }
      expect(expected.length).toBeGreaterThan(2);

      for (const [call, after] of expected.entries()) {
        const result = await pruneFinished(s.database, { ...ttl, batchSize: 2, orphanScanRows: scanRows });
        const previous = call === 0 ? before : expected[call - 1]!;
        const removed = TABLES.reduce((n, table) => n + previous[table].length - after[table].length, 0);
        expect(result).toEqual({ jobs: 0, rows: 0, orphans: removed });
        expect(await jobIdsInKeyOrder(s)).toEqual(after);
        // No table lost more than it read.
        for (const table of TABLES) expect(previous[table].length - after[table].length).toBeLessThanOrEqual(scanRows);
      }
      // The first call read only live rows of the journal entries (two jobs of two entries come
      // first), so their orphans waited, though the call found orphans in other tables.
      expect(expected[0]!.journalEntries).toEqual(before.journalEntries);
      expect(TABLES.some((table) => expected[0]![table].length < before[table].length)).toBe(true);

      const end = await jobIdsInKeyOrder(s);
      for (const table of TABLES) expect(end[table]).toEqual(before[table].filter((id) => live.includes(id)));
      expect(await pruneFinished(s.database, { ...ttl, batchSize: 2, orphanScanRows: scanRows })).toEqual({ jobs: 0, rows: 0, orphans: 0 });
      await s.bus.close();
    });

    it('goes on where the previous call stopped when that call was made by another process (the position is stored)', async () => {
      const s = await setup();
      // Six jobs whose rows come before the orphan's in key order, then the orphan.
      const live = ['a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'a-6'];
      for (const id of [...live, 'z-orphan']) await jobWithRows(s, id);
      await s.database.client.query(`DELETE FROM ${s.database.tables.jobs} WHERE id = 'z-orphan'`);
      const orphanRows = async () => (await jobIdsInKeyOrder(s)).journalHeads.filter((id) => id === 'z-orphan').length;
      expect(await orphanRows()).toBe(1);
      // Each call as another process makes it: a database object of its own on the schema; each reads 3 rows a table.
      let calls = 0;
      while ((await orphanRows()) > 0 && calls < 5) {
        const other = new BatonDatabase({ client: s.database.client, schema: s.database.schema });
        await pruneFinished(other, { ...ttl, batchSize: 3, orphanScanRows: 3 });
        calls++;
      }
      // Heads: 7 rows, 3 a call: the orphan's (the 7th) is read by the third call. Starting at the
      // beginning each time, no call would ever reach it.
      expect(await orphanRows()).toBe(0);
      expect(calls).toBe(3);
      await s.bus.close();
    });

    it('rejects an orphanScanRows that is not a positive integer', async () => {
      const s = await setup();
      for (const orphanScanRows of [0, -1, 1.5, Number.NaN]) {
        await expect(pruneFinished(s.database, { ...ttl, orphanScanRows })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'orphanScanRows' });
      }
      await s.bus.close();
    });
  });
}
