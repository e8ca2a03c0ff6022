/**
 * A worker host for the multi-process rows of `runtime-postgres.bench.ts`: its own process, its
 * own pool, a kernel whose worker claims jobs from the Postgres queue. Started by the benchmark
 * with `fork`; talks to it over IPC:
 *
 * - sends `{ type: 'ready' }` once its worker runs;
 * - answers `{ type: 'ping' }` with `{ type: 'pong', at }` (its wall clock, to align the clocks);
 * - sends `{ type: 'token', jobId, token }` when a job pauses for an action here;
 * - sends `{ type: 'woke', jobId, at }` when a `wake` job runs again after its action;
 * - on `{ type: 'reset' }`, forgets its claims and starts counting its CPU time anew;
 * - on `{ type: 'stop' }`, sends `{ type: 'claims', ns, cpuMs }` (the latency of each claim that
 *   got a job, and its CPU time since the reset) and exits.
 *
 * Settings come from the environment: BENCH_URL, BENCH_SCHEMA, BENCH_HOST, BENCH_CONCURRENCY,
 * BENCH_SIGNALS (`postgres` or a `redis://` URL).
 */
import { ExecutionEngine, ScriptedProvider } from '@baton/llm-client';
import { RuntimeKernel, type Workflow } from '@baton/agent-runtime';
import { createPostgresStores } from '@baton/postgres';
import { RedisSignalChannel } from '@baton/redis';

export type HostMessage =
  | { type: 'ready' }
  | { type: 'pong'; at: number }
  | { type: 'token'; jobId: string; token: string }
  | { type: 'woke'; jobId: string; at: number }
  | { type: 'claims'; ns: number[]; cpuMs: number };

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** The workflows every host and the benchmark's own kernel know. */
export const hostWorkflows: Record<string, Workflow> = {
  wake: async (ctx) => {
    await ctx.waitForAction({ type: 'approval', title: 'go' });
    process.send?.({ type: 'woke', jobId: ctx.jobId, at: wallNow() } satisfies HostMessage);
    return 'ok';
  },
  w1: async (ctx) => {
    const state: string[] = [];
    for (let i = 0; i < 10; i++) state.push((await ctx.callModel({ messages: [{ role: 'user', content: `step ${i}` }] })).text);
    return state.length;
  },
};

export const instantEngine = (): ExecutionEngine => new ExecutionEngine({ provider: new ScriptedProvider({ loop: true, script: ['x'.repeat(200)] }) });

async function main(): Promise<void> {
  const send = (message: HostMessage) => process.send?.(message);
  const url = process.env['BENCH_URL']!;
  const signalsAt = process.env['BENCH_SIGNALS'] ?? 'postgres';
  const pg = await createPostgresStores({ connectionString: url, schema: process.env['BENCH_SCHEMA'], autoMigrate: false, warmConnections: 2 });
  const redisSignals = signalsAt.startsWith('redis') ? new RedisSignalChannel({ url: signalsAt }) : undefined;
  const stores = redisSignals ? { ...pg, signals: redisSignals } : pg;
  const kernel = RuntimeKernel.create({
    stores,
    queue: pg.queue,
    workflows: hostWorkflows,
    hostId: process.env['BENCH_HOST'] ?? `host-${process.pid}`,
    engine: instantEngine(),
    onActionRequired: (action) => send({ type: 'token', jobId: action.jobId, token: action.resumeToken }),
  });
  const claims: number[] = [];
  let cpu = process.cpuUsage();
  const claim = pg.queue.claim.bind(pg.queue);
  pg.queue.claim = async (options) => {
    const t = process.hrtime.bigint();
    const result = await claim(options);
    if (result.jobs.length > 0) claims.push(Number(process.hrtime.bigint() - t));
    return result;
  };
  await kernel.startWorker({ concurrency: Number(process.env['BENCH_CONCURRENCY'] ?? 2), pollMs: 1000, leaseMs: 10_000 });
  process.on('message', (message: { type: string }) => {
    if (message.type === 'ping') send({ type: 'pong', at: wallNow() });
    else if (message.type === 'reset') {
      claims.length = 0;
      cpu = process.cpuUsage();
    }
    else if (message.type === 'stop') {
      const used = process.cpuUsage(cpu);
      send({ type: 'claims', ns: claims, cpuMs: (used.user + used.system) / 1000 });
      void (async () => {
        await kernel.close();
        await redisSignals?.close();
        await pg.close();
        process.disconnect();
      })();
    }
  });
  send({ type: 'ready' });
}

if (process.send) await main();
