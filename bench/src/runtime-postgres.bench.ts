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
 * W5  cancel() 20 ms into a 5 s model call: until `result()` rejects (the cancel is decided in the
 *     process running the job, before any write), and until `cancel()` resolves (the
 *     cancellation written).
 * Wake-up: a job paused in a worker of host process A (`hosts/worker-host.ts`); its action
 *     resolved in this process (B); the span ends when the job's code runs again in A (A's wall
 *     clock, aligned to this one by the ping with the shortest round trip). With LISTEN/NOTIFY
 *     signals, and with Redis pub/sub (REDIS_URL) when Redis is reachable.
 * Throughput: 4 workers in 2 host processes (concurrency 2 each) on one Postgres; this process
 *     enqueues 400 W1 jobs and counts them finished in the database. Claim latency: every claim
 *     of the hosts' workers that got a job.
 * Floors, first: a `SELECT 1` round trip and a one-row INSERT committed on this Postgres, in the
 *     same run, so the figures above can be read against what any durable write costs here. The
 *     warm-pool resume is also timed after 300 ms of idleness (a host between requests).
 */
import { RuntimeKernel, type Workflow } from '@baton/agent-runtime';
import { ExecutionEngine, ScriptedProvider } from '@baton/llm-client';
import { createEmbeddedStores, createPostgresStores, PgSqlClient, type SqlExecutor } from '@baton/postgres';
import { RedisSignalChannel } from '@baton/redis';
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { latencyRow, printTable } from './harness.js';
import { hostWorkflows, instantEngine, wallNow, type HostMessage } from './hosts/worker-host.js';

const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
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

const engine = instantEngine;
const w1 = hostWorkflows['w1']!;
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

/**
 * W5 on Postgres: a job waits on a 5 s model call; `cancel()` 20 ms in. `result()` rejects when
 * the cancel is decided (no write waited for); `cancel()` resolves once the cancellation is
 * written.
 */
async function w5Postgres(): Promise<Array<Record<string, string | number>>> {
  const stores = await createPostgresStores({ connectionString: url, schema, autoMigrate: false });
  const provider = new ScriptedProvider({ loop: true, script: [{ text: 'slow', delayMs: 5_000 }] });
  const kernel = RuntimeKernel.create({ engine: new ExecutionEngine({ provider }), stores, workflows: { slow: async (ctx) => (await ctx.callModel({ messages: [{ role: 'user', content: 'hi' }] })).text } });
  const rejected: number[] = [];
  const recorded: number[] = [];
  for (let i = 0; i < 60; i++) {
    const h = await kernel.execute({ ...scope, workflow: 'slow', input: null });
    let rejectedAt = 0n;
    const result = h.result().catch(() => (rejectedAt = process.hrtime.bigint()));
    await new Promise((r) => setTimeout(r, 20));
    const t0 = process.hrtime.bigint();
    const written = await h.cancel();
    const t1 = process.hrtime.bigint();
    await result;
    if (written?.status !== 'cancelled') throw new Error(`job ${h.jobId} ended ${written?.status}`);
    if (i >= 10) {
      rejected.push(Number(rejectedAt - t0));
      recorded.push(Number(t1 - t0));
    }
  }
  await kernel.close();
  await stores.close();
  return [
    latencyRow('W5 cancel → result() rejects, Postgres', rejected, '', 'ms'),
    latencyRow('W5 cancel → cancellation recorded (cancel() resolves), Postgres', recorded, '', 'ms'),
  ];
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

/** A worker host process (`hosts/worker-host.ts`) and its messages. */
interface Host {
  readonly child: ChildProcess;
  /** Its wall clock minus ours (ms), from the ping with the shortest round trip. */
  offset: number;
  next<T extends HostMessage['type']>(type: T, match?: (m: Extract<HostMessage, { type: T }>) => boolean): Promise<Extract<HostMessage, { type: T }>>;
  /** Stops it: the latency of its claims that got a job, and its CPU time (ms), since the last `reset`. */
  stop(): Promise<{ ns: number[]; cpuMs: number }>;
}

async function startHost(name: string, signals: string): Promise<Host> {
  const child = fork(fileURLToPath(new URL('./hosts/worker-host.ts', import.meta.url)), [], {
    env: { ...process.env, BENCH_URL: url, BENCH_SCHEMA: schema, BENCH_HOST: name, BENCH_CONCURRENCY: '2', BENCH_SIGNALS: signals },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Set<{ type: string; match?: (m: never) => boolean; resolve: (m: never) => void; reject: (e: Error) => void }>();
  const backlog: HostMessage[] = [];
  child.on('message', (m: HostMessage) => {
    for (const w of waiting) {
      if (w.type === m.type && (!w.match || w.match(m as never))) {
        waiting.delete(w);
        w.resolve(m as never);
        return;
      }
    }
    backlog.push(m);
  });
  let exited: Error | undefined;
  child.once('exit', (code) => {
    exited = new Error(`host ${name} exited (${code})`);
    for (const w of waiting) w.reject(exited);
    waiting.clear();
  });
  const next: Host['next'] = (type, match) => {
    const i = backlog.findIndex((m) => m.type === type && (!match || match(m as never)));
    if (i >= 0) return Promise.resolve(backlog.splice(i, 1)[0] as never);
    if (exited) return Promise.reject(exited);
    return new Promise((resolve, reject) => waiting.add({ type, match: match as never, resolve: resolve as never, reject }));
  };
  await next('ready');
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 30; i++) {
    const t0 = wallNow();
    child.send({ type: 'ping' });
    const { at } = await next('pong');
    const t1 = wallNow();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: at - (t0 + t1) / 2 };
  }
  return {
    child,
    offset: best.offset,
    next,
    async stop() {
      child.send({ type: 'stop' });
      const { ns, cpuMs } = await next('claims');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      return { ns, cpuMs };
    },
  };
}

/**
 * Wake-up: a job paused in host process A (its worker ran it); the action resolved in this
 * process (B, no worker); A's worker woken by the signal, claims the job and runs it again. The
 * span ends when the job's code runs again in A (A's clock, aligned to ours by ping).
 */
async function wakeUp(signals: string, label: string): Promise<Array<Record<string, string | number>>> {
  const pg = await createPostgresStores({ connectionString: url, schema, autoMigrate: false });
  const redisSignals = signals.startsWith('redis') ? new RedisSignalChannel({ url: signals }) : undefined;
  const b = RuntimeKernel.create({ stores: redisSignals ? { ...pg, signals: redisSignals } : pg, queue: pg.queue, workflows: hostWorkflows, hostId: 'B', engine: instantEngine() });
  const hostA = await startHost('A', signals);
  const wakeMs: number[] = [];
  try {
    for (let i = 0; i < 40; i++) {
      const h = await b.execute({ ...scope, workflow: 'wake', input: null });
      const { token } = await hostA.next('token', (m) => m.jobId === h.jobId);
      await h.settled();
      await new Promise((r) => setTimeout(r, 20));
      const t0 = wallNow();
      await b.resume(token, { approved: true }, { scopeId: 'bench', principalId: 'approver' });
      const { at } = await hostA.next('woke', (m) => m.jobId === h.jobId);
      await h.result();
      if (i >= 5) wakeMs.push((at - hostA.offset - t0) * 1e6);
    }
  } finally {
    await hostA.stop();
    await b.close();
    await redisSignals?.close();
    await pg.close();
  }
  return [latencyRow(`wake-up: resolve in process B → job running in a worker of process A (${label})`, wakeMs, '≤ 10 ms median', 'ms')];
}

/** CPU time of the whole machine so far (ms, every core), from /proc/stat; undefined off Linux. */
function machineCpuMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const busy = fields.reduce((x, y) => x + y, 0) - (fields[3] ?? 0) - (fields[4] ?? 0); // all but idle and iowait
    return (busy * 1000) / 100; // USER_HZ
  } catch {
    return undefined;
  }
}

/**
 * Throughput: 4 workers in 2 host processes (concurrency 2 each) on one Postgres; this process
 * only enqueues, then counts the jobs finished in the database. Also where the CPU went, per job.
 */
async function throughput(): Promise<Array<Record<string, string | number>>> {
  const pg = await createPostgresStores({ connectionString: url, schema, autoMigrate: false });
  const b = RuntimeKernel.create({ stores: pg, queue: pg.queue, workflows: hostWorkflows, hostId: 'B', engine: instantEngine() });
  const hosts = await Promise.all([startHost('A1', 'postgres'), startHost('A2', 'postgres')]);
  const n = 400;
  let seconds = 0;
  let enqueueMs = 0;
  const claimNs: number[] = [];
  let hostsCpuMs = 0;
  let machineMs: number | undefined;
  const ownCpu = process.cpuUsage();
  try {
    for (const host of hosts) host.child.send({ type: 'reset' });
    const machine0 = machineCpuMs();
    const t0 = performance.now();
    // The run's jobs in a scope of their own, counted finished by its status index every 10 ms (this process follows none of them on the bus).
    const runScope = { scopeId: `bench-throughput-${process.pid}`, principalId: 'bench' };
    await Promise.all(Array.from({ length: n }, () => b.execute({ ...runScope, workflow: 'w1', input: null })));
    enqueueMs = performance.now() - t0;
    for (;;) {
      const { rows } = await pg.database.client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".jobs WHERE scope_id = $1 AND status = 'completed'`, [runScope.scopeId]);
      if (Number(rows[0]?.n) === n) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    seconds = (performance.now() - t0) / 1000;
    const machine1 = machineCpuMs();
    if (machine0 !== undefined && machine1 !== undefined) machineMs = machine1 - machine0;
  } finally {
    for (const host of hosts) {
      const { ns, cpuMs } = await host.stop();
      claimNs.push(...ns);
      hostsCpuMs += cpuMs;
    }
    await b.close();
    await pg.close();
  }
  const own = process.cpuUsage(ownCpu);
  const ownMs = (own.user + own.system) / 1000;
  const perJob = (ms: number) => `${(ms / n).toFixed(2)} ms`;
  return [
    { case: `throughput: ${n} W1 jobs, 4 workers in 2 processes (concurrency 2 each)`, n, median: `${Math.round(n / seconds)} jobs/s`, p95: '', p99: '', target: '' },
    { case: `enqueueing the ${n} jobs (this process, 10 connections)`, n, median: `${enqueueMs.toFixed(0)} ms`, p95: '', p99: '', target: '' },
    latencyRow('claim latency during the throughput run (claims that got a job)', claimNs, '', 'ms'),
    {
      case: 'CPU per job: worker processes / this process (enqueue, count) / whole machine (Postgres included)',
      n,
      median: `${perJob(hostsCpuMs)} / ${perJob(ownMs)} / ${machineMs === undefined ? '?' : perJob(machineMs)}`,
      p95: '',
      p99: '',
      target: '',
    },
  ];
}

async function redisReachable(): Promise<boolean> {
  const probe = new RedisSignalChannel({ url: redisUrl, redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null } });
  try {
    await probe.publish('baton:bench-probe', { schemaVersion: 1, kind: 'job.enqueued', scopeId: 'bench', subjectId: 'probe', at: Date.now() });
    return true;
  } catch {
    return false;
  } finally {
    await probe.close().catch(() => {});
  }
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
  rows.push(...(await w5Postgres()));
  rows.push(...(await wakeUp('postgres', 'LISTEN/NOTIFY')));
  if (await redisReachable()) rows.push(...(await wakeUp(redisUrl, 'Redis pub/sub')));
  else console.log(`(Redis at ${redisUrl} unreachable: the Redis wake-up row skipped)`);
  rows.push(...(await throughput()));
  const cleanup = await createPostgresStores({ connectionString: url, schema, autoMigrate: false });
  await cleanup.database.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`, []);
  await cleanup.close();
} else {
  console.log(`(Postgres at ${url} unreachable: Postgres rows skipped)`);
}
rows.push(await w2('PGlite in memory', () => createEmbeddedStores({ dir: 'memory://' }), 60));
printTable('Runtime on Postgres and PGlite', rows);
