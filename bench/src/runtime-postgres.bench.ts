/**
 * The runtime on Postgres at 127.0.0.1 (DATABASE_URL), and W2 on embedded PGlite.
 *
 * W2  the 10-step job of W1 (one model call per step, answer appended to the job's state):
 *     per-step time with the journal on Postgres, and on PGlite.
 * W3  a 3-step job whose step 2 waits for an approval: execute → persisted as waiting (and the
 *     pause alone: from `waitForAction` to the job persisted as waiting, the step before it
 *     stored by the same write); then
 *     resume → completed, three ways:
 *     - warm pool: another kernel on the pool that paused the job (connections open and used).
 *     - fresh kernel, pool opened at startup (another host): the stores were created with
 *       `warmConnections: 3` before the span (connections open, schema checked, tables' metadata
 *       loaded and a job's statements prepared on each by a rehearsal rolled back); the span is `RuntimeKernel.create` + `resume` + `result()`.
 *     - cold: `createPostgresStores` (default options, `autoMigrate: false`) inside the span, so
 *       it includes opening every connection the resume needs and the schema check.
 *     All three run in a process that has already run the same code (Node has compiled it): a
 *     brand-new process's first resume also pays for first calls (mostly zod compiling the
 *     record schemas), which no row here includes. The connections row counts the connections
 *     each of the last two opened inside the span.
 * Wake-up: an action resolved through kernel B's pool; the job running again in kernel A's
 *     worker (LISTEN/NOTIFY signals, separate pools as two hosts would have).
 * Throughput: 4 workers (2 kernels × concurrency 2, separate pools) on one Postgres.
 * Floors, first: a `SELECT 1` round trip and a one-row INSERT committed on this Postgres, in the
 *     same run, so the figures above can be read against what any durable write costs here. The
 *     warm-pool resume is also timed after 300 ms of idleness (a host between requests).
 */
import { ExecutionEngine, ScriptedProvider } from '@baton/llm-client';
import { RuntimeKernel, type Workflow } from '@baton/agent-runtime';
import { createEmbeddedStores, createPostgresStores, PgSqlClient, type SqlExecutor } from '@baton/postgres';
import { latencyRow, printTable } from './harness.js';

const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const scope = { scopeId: 'bench', principalId: 'bench' };
const schema = `baton_bench_${process.pid}`;

async function reachable(): Promise<boolean> {
  try {
    const stores = await createPostgresStores({ connectionString: url, schema, poolConfig: { connectionTimeoutMillis: 2000 } });
    await stores.close();
    return true;
  } catch {
    return false;
  }
}

/** A pool that counts the statements it sends (BEGIN and COMMIT included): round trips per job and per step. */
class CountingClient extends PgSqlClient {
  statements = 0;
  override query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: Parameters<PgSqlClient['query']>[2]) {
    this.statements++;
    return super.query<Row>(text, params, options);
  }
  override transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    this.statements += 2;
    return super.transaction((tx) =>
      fn({
        query: (text, params, options) => {
          this.statements++;
          return tx.query(text, params, options);
        },
      }),
    );
  }
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;

const engine = () => new ExecutionEngine({ provider: new ScriptedProvider({ loop: true, script: ['x'.repeat(200)] }) });
const w1: Workflow = async (ctx) => {
  const state: string[] = [];
  for (let i = 0; i < 10; i++) state.push((await ctx.callModel({ messages: [{ role: 'user', content: `step ${i}` }] })).text);
  return state.length;
};
/** When each W3 job called `waitForAction` (the pause's own span ends when the job is persisted as waiting). */
const pauseCalled = new Map<string, bigint>();
const w3: Workflow = async (ctx) => {
  await ctx.step('plan', () => 'plan');
  pauseCalled.set(ctx.jobId, process.hrtime.bigint()); // set again when the job replays on resume: read before that
  await ctx.waitForAction({ type: 'approval', title: 'Ship?' });
  return ctx.step('execute', () => 'done');
};

const w20: Workflow = async (ctx) => {
  const state: string[] = [];
  for (let i = 0; i < 20; i++) state.push((await ctx.callModel({ messages: [{ role: 'user', content: `step ${i}` }] })).text);
  return state.length;
};

async function w2(label: string, open: () => Promise<Awaited<ReturnType<typeof createPostgresStores>>>, jobs: number): Promise<Record<string, string | number>> {
  const stores = await open();
  const kernel = RuntimeKernel.create({ engine: engine(), stores, workflows: { w1 } });
  const perStep: number[] = [];
  for (let i = 0; i < jobs; i++) {
    const t0 = process.hrtime.bigint();
    await (await kernel.execute({ ...scope, workflow: 'w1', input: null })).result();
    if (i >= Math.ceil(jobs / 10)) perStep.push(Number(process.hrtime.bigint() - t0) / 10);
  }
  await kernel.close();
  await stores.close();
  return latencyRow(`W2 per step (10-step job / 10), ${label}`, perStep, label.startsWith('Postgres') ? '≤ 0.8 ms median' : '', 'ms');
}

/** The cost of one more step: 20-step and 10-step jobs in turn, (t20 − t10) / 10, and the statements each sends. */
async function w2Marginal(pairs: number): Promise<Array<Record<string, string | number>>> {
  const client = new CountingClient({ connectionString: url });
  const stores = await createPostgresStores({ client, schema, autoMigrate: false });
  const kernel = RuntimeKernel.create({ engine: engine(), stores, workflows: { w1, w20 } });
  const run = async (workflow: string) => {
    const before = client.statements;
    const t0 = process.hrtime.bigint();
    await (await kernel.execute({ ...scope, workflow, input: null })).result();
    return { ns: Number(process.hrtime.bigint() - t0), statements: client.statements - before };
  };
  const marginal: number[] = [];
  let s10 = 0;
  let s20 = 0;
  for (let i = 0; i < pairs; i++) {
    const a = await run('w1');
    const b = await run('w20');
    if (i < Math.ceil(pairs / 10)) continue;
    marginal.push((b.ns - a.ns) / 10);
    s10 = a.statements;
    s20 = b.statements;
  }
  await kernel.close();
  await stores.close();
  await client.close();
  return [
    latencyRow('W2 one more step ((20-step − 10-step job) / 10), Postgres', marginal, '≤ 0.8 ms median', 'ms'),
    { case: 'W2 statements: 10-step job / one more step', n: pairs, median: `${s10} / ${(s20 - s10) / 10}`, p95: '', p99: '', target: '1 per step' },
  ];
}

async function w3Postgres(): Promise<Array<Record<string, string | number>>> {
  const counter = new CountingClient({ connectionString: url });
  const base = await createPostgresStores({ client: counter, schema });
  let pauseStatements = 0;
  let resumeStatements = 0;
  const pause: number[] = [];
  const pauseOnly: number[] = [];
  const idleResume: number[] = [];
  const coldResume: number[] = [];
  const warmResume: number[] = [];
  let token = '';
  const a = RuntimeKernel.create({ stores: base, workflows: { w3 }, onActionRequired: (x) => (token = x.resumeToken) });
  const warm = RuntimeKernel.create({ stores: base, workflows: { w3 } });
  // Pause, then resume on the same pool (another kernel): both timed.
  for (let i = 0; i < 80; i++) {
    const t0 = process.hrtime.bigint();
    let before = counter.statements;
    const h = await a.execute({ ...scope, workflow: 'w3', input: null });
    await h.settled();
    const t = process.hrtime.bigint();
    pause.push(Number(t - t0));
    pauseOnly.push(Number(t - pauseCalled.get(h.jobId)!));
    pauseStatements = counter.statements - before;
    before = counter.statements;
    const t1 = process.hrtime.bigint();
    const { handle } = await warm.resume(token, { approved: true }, { scopeId: 'bench', principalId: 'approver' });
    await handle!.result();
    warmResume.push(Number(process.hrtime.bigint() - t1));
    resumeStatements = counter.statements - before;
  }
  // The same after the machine sat idle for 300 ms (as a host between requests): processes and
  // CPUs asleep take longer to wake, which no code of the resume path changes.
  for (let i = 0; i < 20; i++) {
    await (await a.execute({ ...scope, workflow: 'w3', input: null })).settled();
    await new Promise((r) => setTimeout(r, 300));
    const t1 = process.hrtime.bigint();
    const { handle } = await warm.resume(token, { approved: true }, { scopeId: 'bench', principalId: 'approver' });
    await handle!.result();
    idleResume.push(Number(process.hrtime.bigint() - t1));
  }
  // Pause (not timed), then resume on another host, in turn: with stores created (and warmed)
  // before the span, and with stores created inside it.
  const openedAtStartup: number[] = [];
  const connectsStartup: number[] = [];
  const connectsCold: number[] = [];
  /** Resumes on a fresh kernel over `stores`: the span from `t1` to the result, and the connections `opened` by then. */
  const resumeOn = async (stores: Awaited<ReturnType<typeof createPostgresStores>>, t1: bigint, connects: number[], opened: () => number) => {
    const b = RuntimeKernel.create({ stores, workflows: { w3 } });
    const { handle } = await b.resume(token, { approved: true }, { scopeId: 'bench', principalId: 'approver' });
    await handle!.result();
    const ns = Number(process.hrtime.bigint() - t1);
    connects.push(opened());
    await b.close();
    await stores.close();
    return ns;
  };
  for (let i = 0; i < 30; i++) {
    await (await a.execute({ ...scope, workflow: 'w3', input: null })).settled();
    const started = await createPostgresStores({ connectionString: url, schema, autoMigrate: false, warmConnections: 3 });
    const startedPool = (started.database.client as PgSqlClient).pool;
    const startedCount = startedPool.totalCount;
    openedAtStartup.push(await resumeOn(started, process.hrtime.bigint(), connectsStartup, () => startedPool.totalCount - startedCount));

    await (await a.execute({ ...scope, workflow: 'w3', input: null })).settled();
    const t1 = process.hrtime.bigint();
    const stores = await createPostgresStores({ connectionString: url, schema, autoMigrate: false });
    const coldPool = (stores.database.client as PgSqlClient).pool;
    coldResume.push(await resumeOn(stores, t1, connectsCold, () => coldPool.totalCount));
  }
  await a.close();
  await warm.close();
  await base.close();
  await counter.close();
  return [
    { case: 'W3 statements: execute → waiting / resume → completed', n: 1, median: `${pauseStatements} / ${resumeStatements}`, p95: '', p99: '', target: '' },
    latencyRow('W3 execute → persisted as waiting (2 commits: job created started; step with the pause)', pause.slice(10), '', 'ms'),
    latencyRow('W3 pause: waitForAction → persisted as waiting (1 commit, the step before it included)', pauseOnly.slice(10), '≤ 2 ms median', 'ms'),
    latencyRow('W3 resume → completed, fresh kernel, pool opened at startup (another host)', openedAtStartup.slice(2), '≤ 5 ms median', 'ms'),
    latencyRow('W3 resume → completed, cold: pool created in the span (connections included)', coldResume.slice(2), '', 'ms'),
    { case: 'W3 connections opened in the span: pool opened at startup / cold', n: connectsCold.length, median: `${median(connectsStartup)} / ${median(connectsCold)}`, p95: '', p99: '', target: '' },
    latencyRow('W3 resume → completed, warm pool', warmResume.slice(10), '≤ 3 ms median', 'ms'),
    latencyRow('W3 resume → completed, warm pool, after 300 ms idle', idleResume, '', 'ms'),
  ];
}

async function wakeAndThroughput(): Promise<Array<Record<string, string | number>>> {
  const hostA = await createPostgresStores({ connectionString: url, schema, autoMigrate: false });
  const hostB = await createPostgresStores({ connectionString: url, schema, autoMigrate: false });
  let token = '';
  const stamps = new Map<string, bigint>();
  const wake: Workflow = async (ctx) => {
    await ctx.waitForAction({ type: 'approval', title: 'go' });
    stamps.set(ctx.jobId, process.hrtime.bigint());
    return 'ok';
  };
  const a = RuntimeKernel.create({ stores: hostA, queue: hostA.queue, workflows: { wake, w1 }, hostId: 'A', engine: engine(), onActionRequired: (x) => (token = x.resumeToken) });
  const b = RuntimeKernel.create({ stores: hostB, queue: hostB.queue, workflows: { wake, w1 }, hostId: 'B', engine: engine() });
  await a.startWorker({ concurrency: 2, pollMs: 1000, leaseMs: 10_000 });
  const wakeNs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const h = await b.execute({ ...scope, workflow: 'wake', input: null });
    await h.settled();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = process.hrtime.bigint();
    await b.resume(token, { approved: true }, { scopeId: 'bench', principalId: 'approver' });
    await h.result();
    wakeNs.push(Number(stamps.get(h.jobId)! - t0));
  }
  // Claim latency: every claim of both hosts' workers during the throughput run (those that got a job).
  const claimNs: number[] = [];
  for (const queue of [hostA.queue, hostB.queue]) {
    const claim = queue.claim.bind(queue);
    queue.claim = async (options) => {
      const t = process.hrtime.bigint();
      const result = await claim(options);
      if (result.jobs.length > 0) claimNs.push(Number(process.hrtime.bigint() - t));
      return result;
    };
  }
  await b.startWorker({ concurrency: 2, pollMs: 1000, leaseMs: 10_000 });
  claimNs.length = 0;
  const n = 200;
  const t0 = performance.now();
  const handles = await Promise.all(Array.from({ length: n }, () => b.execute({ ...scope, workflow: 'w1', input: null })));
  await Promise.all(handles.map((h) => h.result()));
  const seconds = (performance.now() - t0) / 1000;
  await a.close();
  await b.close();
  await hostA.close();
  await hostB.close();
  return [
    latencyRow('wake-up: resolve on host B → job running on host A (LISTEN/NOTIFY)', wakeNs, '≤ 10 ms median', 'ms'),
    { case: `throughput: ${n} W1 jobs, 4 workers on 2 kernels (separate pools)`, n, median: `${Math.round(n / seconds)} jobs/s`, p95: '', p99: '', target: '' },
    latencyRow('claim latency during the throughput run (claims that got a job)', claimNs, '', 'ms'),
  ];
}

/**
 * What this machine's Postgres costs at the least, measured in this run next to the figures: a
 * round trip (`SELECT 1`), and a one-row INSERT committed (a round trip and the WAL's fsync), the
 * price of any durable write here. A step, a pause or a resume is a chain of such commits.
 */
async function floors(): Promise<Array<Record<string, string | number>>> {
  const client = new PgSqlClient({ connectionString: url, poolConfig: { max: 1 } });
  await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".floor (id bigserial PRIMARY KEY, v jsonb)`);
  const select: number[] = [];
  const insert: number[] = [];
  for (let i = 0; i < 600; i++) {
    const t = process.hrtime.bigint();
    await client.query('SELECT 1', [], { prepare: true });
    if (i >= 100) select.push(Number(process.hrtime.bigint() - t));
  }
  for (let i = 0; i < 600; i++) {
    const t = process.hrtime.bigint();
    await client.query(`INSERT INTO "${schema}".floor (v) VALUES ($1)`, ['{"a":1}'], { prepare: true });
    if (i >= 100) insert.push(Number(process.hrtime.bigint() - t));
  }
  await client.close();
  return [latencyRow('floor: SELECT 1 round trip', select, '', 'ms'), latencyRow('floor: one-row INSERT committed (round trip + WAL fsync)', insert, '', 'ms')];
}

const rows: Array<Record<string, string | number>> = [];
if (await reachable()) {
  rows.push(...(await floors()));
  rows.push(await w2('Postgres 127.0.0.1', () => createPostgresStores({ connectionString: url, schema, autoMigrate: false }), 120));
  rows.push(...(await w2Marginal(60)));
  rows.push(...(await w3Postgres()));
  rows.push(...(await wakeAndThroughput()));
  const cleanup = await createPostgresStores({ connectionString: url, schema, autoMigrate: false });
  await cleanup.database.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`, []);
  await cleanup.close();
} else {
  console.log(`(Postgres at ${url} unreachable: Postgres rows skipped)`);
}
rows.push(await w2('PGlite in memory', () => createEmbeddedStores({ dir: 'memory://' }), 60));
printTable('Runtime on Postgres and PGlite', rows);
