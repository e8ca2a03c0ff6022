/**
 * `@baton/postgres` stores on a Postgres server (DATABASE_URL, default the local one) and on
 * embedded PGlite (in memory):
 *
 * - journal append latency (one statement: seq check, fence and insert);
 * - journal append with a step's 3 events: as separate writes (the append, then each event's
 *   publish; or the append, then one `publishMany`), and as `appendWithEvents`, which stores entry
 *   and events in one statement when the bus shares the journal's database;
 * - job create + update (compare-and-set);
 * - W2-like: jobs of 10 sequential steps, each step = one journal append + one job update (the
 *   store work of a runtime step), per-step time. Target on Postgres at 127.0.0.1: ≤ 0.8 ms median.
 *
 * Postgres runs twice: with durable commits (each commit waits for its WAL flush, the server's
 * default) and with `synchronous_commit=off` for the benchmark's connections, which shows how
 * much of a step is the disk's flush.
 *
 * The Postgres rows are skipped, with a note, when the server cannot be reached. Timing never
 * fails the run.
 */
import { randomBytes } from 'node:crypto';
import type { JobRecord, JournalEntryInput, RuntimeEventInput } from '@baton/agent-runtime';
import { createEmbeddedStores, createPostgresStores, PgSqlClient, type BatonStores } from '@baton/postgres';
import { latencyRow, measure, printTable } from './harness.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const scopeId = 'bench';
let jobCounter = 0;

function job(id: string): JobRecord {
  const at = Date.now();
  return {
    schemaVersion: 1,
    id,
    scopeId,
    principalId: 'bench',
    priority: 'normal',
    status: 'running',
    input: { prompt: 'benchmark' },
    budgets: {},
    metadata: {},
    attempts: 1,
    stateHistory: [{ status: 'running', at }],
    createdAt: at,
    updatedAt: at,
    leaseEpoch: 0,
    version: 1,
  };
}

function step(jobId: string, seq: number): JournalEntryInput {
  return { scopeId, jobId, kind: 'model', name: 'scripted', status: 'completed', output: { text: 'x'.repeat(200), seq }, startedAt: Date.now(), durationMs: 1 };
}

/** A step's events: two text deltas and its `step.completed`. */
function stepEvents(jobId: string, seq: number): RuntimeEventInput[] {
  const model = { scopeId, jobId, type: 'model.delta' as const, data: { model: 'scripted', textDelta: 'x'.repeat(100) } };
  return [model, model, { scopeId, jobId, type: 'step.completed', data: { seq, key: `${jobId}:${seq}`, kind: 'model', name: 'scripted', durationMs: 1 } }] as RuntimeEventInput[];
}

async function reachable(): Promise<string | undefined> {
  const client = new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 1, connectionTimeoutMillis: 2_000 } });
  try {
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.close().catch(() => {});
  }
}

async function run(name: string, stores: BatonStores, iterations: number): Promise<Array<Record<string, string | number>>> {
  const rows: Array<Record<string, string | number>> = [];

  // Journal append: 100 steps per job.
  let appendJob = '';
  rows.push(
    latencyRow(
      `${name}: journal append`,
      await measure(iterations, async (i) => {
        if (i % 100 === 0) appendJob = `append-${jobCounter++}`;
        await stores.journal.append(step(appendJob, i % 100), { expectedSeq: i % 100 });
      }),
      '',
      'ms',
    ),
  );

  // Journal append with the step's 3 events: separate writes, then one statement.
  const withEvents = Math.floor(iterations / 2);
  let eventsJob = '';
  const fresh = (i: number, prefix: string): void => {
    if (i % 100 === 0) eventsJob = `${prefix}-${jobCounter++}`;
  };
  rows.push(
    latencyRow(
      `${name}: append + 3 events, 4 writes (append, 3 × publish)`,
      await measure(withEvents, async (i) => {
        fresh(i, 'separate');
        await stores.journal.append(step(eventsJob, i % 100), { expectedSeq: i % 100 });
        for (const event of stepEvents(eventsJob, i % 100)) await stores.events.publish(event);
      }),
      '',
      'ms',
    ),
  );
  rows.push(
    latencyRow(
      `${name}: append + 3 events, 2 writes (append, publishMany)`,
      await measure(withEvents, async (i) => {
        fresh(i, 'batched');
        await stores.journal.append(step(eventsJob, i % 100), { expectedSeq: i % 100 });
        await stores.events.publishMany(stepEvents(eventsJob, i % 100));
      }),
      '',
      'ms',
    ),
  );
  rows.push(
    latencyRow(
      `${name}: appendWithEvents, 3 events, 1 statement`,
      await measure(withEvents, async (i) => {
        fresh(i, 'outbox');
        await stores.journal.appendWithEvents(step(eventsJob, i % 100), { expectedSeq: i % 100 }, { bus: stores.events, events: stepEvents(eventsJob, i % 100) });
      }),
      '',
      'ms',
    ),
  );

  // Job create + update (compare-and-set).
  rows.push(
    latencyRow(
      `${name}: job create + update`,
      await measure(Math.floor(iterations / 2), async () => {
        const { job: created } = await stores.jobs.create(job(`job-${jobCounter++}`));
        await stores.jobs.update({ ...created, status: 'completed', result: { ok: true }, updatedAt: Date.now() });
      }),
      '',
      'ms',
    ),
  );

  // W2-like: 10 sequential steps, each one journal append + one job update.
  const perStep: number[] = [];
  const jobs = Math.max(20, Math.floor(iterations / 10));
  for (let j = 0; j < jobs + 5; j++) {
    let current = (await stores.jobs.create(job(`w2-${jobCounter++}`))).job;
    const t0 = process.hrtime.bigint();
    for (let seq = 0; seq < 10; seq++) {
      await stores.journal.append(step(current.id, seq), { expectedSeq: seq });
      current = await stores.jobs.update({ ...current, metadata: { step: seq }, updatedAt: Date.now() });
    }
    if (j >= 5) perStep.push(Number(process.hrtime.bigint() - t0) / 10);
  }
  rows.push(latencyRow(`${name}: W2 step (append + job update)`, perStep, name.startsWith('postgres') ? '≤ 0.8 ms median' : '', 'ms'));
  return rows;
}

async function main(): Promise<void> {
  const rows: Array<Record<string, string | number>> = [];
  const why = await reachable();
  if (why !== undefined) {
    console.log(`\n(Postgres rows skipped: ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')} is unreachable: ${why})`);
  } else {
    // Durable commits (the server's default), then with `synchronous_commit=off` for this
    // connection: no WAL flush wait per commit; a server crash may lose the last commits, never
    // corrupt them.
    for (const [name, options] of [
      ['postgres', undefined],
      ['postgres, synchronous_commit=off', '-c synchronous_commit=off'],
    ] as const) {
      const schema = `baton_bench_${randomBytes(4).toString('hex')}`;
      const stores = await createPostgresStores({ connectionString: DATABASE_URL, schema, poolConfig: { max: 2, options } });
      try {
        rows.push(...(await run(name, stores, 1000)));
      } finally {
        await stores.database.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
        await stores.close();
      }
    }
  }
  const embedded = await createEmbeddedStores({ dir: 'memory://' });
  try {
    rows.push(...(await run('pglite', embedded, 1000)));
  } finally {
    await embedded.close();
  }
  printTable('@baton/postgres stores: latency per call (sequential, one connection in use)', rows);
}

main().catch((error: unknown) => {
  console.log(`(postgres-stores benchmark failed: ${(error as Error).stack ?? String(error)})`);
});
