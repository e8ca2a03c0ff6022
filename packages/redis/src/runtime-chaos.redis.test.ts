import { InMemoryEventBus, InMemoryJobQueue, InMemoryJobStore, InMemoryJournalStore, isTerminalJobStatus, RuntimeKernel, type Workflow } from '@baton/agent-runtime';
import { describe, expect, it } from 'vitest';
import { RedisActionStore } from './actions/redis-action-store.js';
import { RedisSignalChannel } from './signals/redis-signal-channel.js';
import { connectionIds, eventually, killConnections, redisAvailable, REDIS_URL, useTestPrefix } from './test-helpers/environment.js';

const available = await redisAvailable();

// The runtime on Redis actions and signals while their connections are killed again and again
// (CLIENT KILL every 40 ms for 3 s): jobs that start, pause for a person and resume on a worker all
// end, each step once, with every reported error typed, and nothing escapes as an uncaught error.
describe.skipIf(!available)('the runtime while its Redis connections are killed', () => {
  const { prefix, tag, admin } = useTestPrefix();

  it('every job completes; steps run once', async () => {
    const name = `baton-test-chaos-${tag}`;
    const actions = new RedisActionStore({ url: REDIS_URL, keyPrefix: prefix, connectionName: `${name}-actions` });
    const signals = new RedisSignalChannel({ url: REDIS_URL, channelPrefix: prefix, connectionName: `${name}-signals` });
    const stores = { jobs: new InMemoryJobStore(), journal: new InMemoryJournalStore(), events: new InMemoryEventBus(), actions, signals };
    const queue = new InMemoryJobQueue();
    const runs = new Map<string, number>();
    const job: Workflow = async (ctx) => {
      const parts: number[] = [];
      for (let i = 0; i < 3; i++) {
        parts.push(
          await ctx.step(`part-${i}`, async () => {
            runs.set(`${ctx.jobId}:${i}`, (runs.get(`${ctx.jobId}:${i}`) ?? 0) + 1);
            await new Promise((r) => setTimeout(r, 5));
            return i;
          }),
        );
      }
      const approval = await ctx.waitForAction({ type: 'approval', title: 'go on?' });
      return { parts, status: approval.status };
    };
    const tokens = new Map<string, string>();
    const errors: unknown[] = [];
    const worker = RuntimeKernel.create({ stores, queue, workflows: { job }, hostId: 'worker', onActionRequired: (a) => tokens.set(a.jobId, a.resumeToken), onError: (e) => errors.push(e) });
    await worker.startWorker({ concurrency: 4, pollMs: 50, leaseMs: 1_500 });
    const front = RuntimeKernel.create({ stores, queue, workflows: { job }, hostId: 'front' });
    let kills = 0;
    const chaos = (async () => {
      const until = Date.now() + 3_000;
      while (Date.now() < until) {
        await new Promise((r) => setTimeout(r, 40));
        for (const suffix of ['-actions', '-signals', '-signals:sub']) kills += await killConnections(admin(), `${name}${suffix}`);
      }
    })();
    const scope = { scopeId: 'chaos', principalId: 'ops' };
    try {
      const handles = await Promise.all(Array.from({ length: 12 }, (_, i) => front.execute({ ...scope, workflow: 'job', input: i })));
      const resumed = new Set<string>();
      const deadline = Date.now() + 45_000;
      for (;;) {
        const jobs = await Promise.all(handles.map(async (h) => (await front.getJob(h.jobId, scope.scopeId))!));
        for (const j of jobs) {
          const token = tokens.get(j.id);
          if (j.status !== 'waiting_for_action' || !token || resumed.has(j.id)) continue;
          // The answer may meet a killed connection: a typed error, nothing written; answered again.
          const answered = await front.resume(token, { approved: true }, { scopeId: scope.scopeId, principalId: 'boss' }).then(
            () => true,
            (error: unknown) => (expect(error).toMatchObject({ code: expect.any(String) }), false),
          );
          if (answered) resumed.add(j.id);
        }
        if (jobs.every((j) => isTerminalJobStatus(j.status))) break;
        if (Date.now() > deadline) throw new Error(`not all jobs ended: ${JSON.stringify(jobs.map((j) => [j.id, j.status]))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await chaos;
      expect(kills).toBeGreaterThan(0);
      for (const h of handles) {
        expect(await front.getJob(h.jobId, scope.scopeId)).toMatchObject({ status: 'completed', result: { parts: [0, 1, 2], status: 'resolved' } });
        for (let i = 0; i < 3; i++) expect(runs.get(`${h.jobId}:${i}`)).toBe(1);
      }
      expect(errors.every((e) => typeof (e as { code?: unknown }).code === 'string')).toBe(true);
      // The workers' subscription is back after the last kill.
      await eventually(async () => (await connectionIds(admin(), `${name}-signals:sub`)).length === 1, 5_000, 'the subscriber connection back');
    } finally {
      await chaos;
      await worker.close();
      await front.close();
      await actions.close();
      await signals.close();
    }
  }, 60_000);
});
