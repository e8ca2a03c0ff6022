/**
 * A worker process for the multi-process tests: a kernel over Postgres stores and the Postgres
 * queue, running the test workflows. It prints one JSON line per notable thing (ready, action
 * tokens) so the parent test can follow it. Run with `node --conditions=source --import tsx`.
 */
import pg from 'pg';
import { RuntimeKernel, type Workflow } from '@baton/agent-runtime';
import { createPostgresStores } from './create-stores.js';

const connectionString = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = process.env['BATON_SCHEMA']!;
const hostId = process.env['BATON_HOST']!;
const effects = new pg.Pool({ connectionString, max: 2 });

/** A side effect outside the runtime: one row per execution, never deduplicated. */
async function effect(jobId: string, step: string): Promise<void> {
  await effects.query(`INSERT INTO "${schema}".effects (job_id, step, host) VALUES ($1, $2, $3)`, [jobId, step, hostId]);
}

const pay: Workflow = async (ctx, input) => {
  // The slow step is slow only on `slowOn`: the test kills that worker in the middle of it.
  const { slowMs, slowOn } = input as { slowMs: number; slowOn: string };
  await ctx.step('charge', async () => {
    await effect(ctx.jobId, 'charge');
    return 'charged';
  });
  await ctx.step('slow-work', async () => {
    await new Promise((r) => setTimeout(r, hostId === slowOn ? slowMs : 100));
    await effect(ctx.jobId, 'slow-work');
    return 'done';
  });
  return ctx.step('receipt', async () => {
    await effect(ctx.jobId, 'receipt');
    return { host: hostId };
  });
};

const approve: Workflow = async (ctx) => {
  const answer = await ctx.waitForAction({ type: 'approval', title: 'Ship it?' });
  return ctx.step('ship', async () => {
    await effect(ctx.jobId, 'ship');
    return { approved: (answer.resolution as { approved: boolean }).approved, host: hostId };
  });
};

/** `n` steps of `delayMs` each: a job whose events another process follows while it runs. */
const steps: Workflow = async (ctx, input) => {
  const { n, delayMs } = input as { n: number; delayMs: number };
  for (let i = 0; i < n; i++) await ctx.step(`s${i}`, () => new Promise<number>((r) => setTimeout(() => r(i), delayMs)));
  return { n, host: hostId };
};

const stores = await createPostgresStores({ connectionString, schema });
const kernel = RuntimeKernel.create({
  stores,
  queue: stores.queue,
  hostId,
  workflows: { pay, approve, steps },
  onActionRequired: (a) => console.log(JSON.stringify({ type: 'action', ...a })),
  onError: (e) => console.error(`[${hostId}]`, e),
});
await kernel.startWorker({ concurrency: 2, leaseMs: 1500, heartbeatMs: 300, pollMs: 100 });
console.log(JSON.stringify({ type: 'ready', hostId }));

process.once('SIGTERM', async () => {
  await kernel.close({ deadlineMs: 2000 });
  await stores.close();
  await effects.end();
  process.exit(0);
});
