import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { BatonError } from '@baton/llm-client';
import { isTerminalJobStatus, RuntimeKernel, type Workflow } from '@baton/agent-runtime';
import { createPostgresStores, type BatonStores } from './create-stores.js';
import { DATABASE_URL, dropSchema, freshSchemaName, postgresAvailable } from './test-helpers/environment.js';

const available = await postgresAvailable();
const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

/** Terminates every server process of connections named `application` (a host's pool and its listener); how many. */
async function cut(admin: pg.Client, application: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [application]);
  return rows[0]?.n ?? 0;
}

// The worker host's connections are terminated again and again while it runs jobs that pause and
// resume: every job still reaches an end (completed, or failed or dead-lettered with a clear
// reason), none is left running, queued or waiting with nothing to run it, and a completed job's
// journal holds each step once.
describe.skipIf(!available)('connections terminated while workers run jobs', () => {
  it('every job reaches an end; completed ones have each step once', async () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    const application = `baton-chaos-${process.pid}`;
    const front: BatonStores = await createPostgresStores({ connectionString: DATABASE_URL, schema });
    const host: BatonStores = await createPostgresStores({ connectionString: DATABASE_URL, schema, autoMigrate: false, poolConfig: { application_name: application } as never });
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    admin.on('error', () => {});
    await admin.connect();
    const scope = { scopeId: 'chaos', principalId: 'ops' };
    const job: Workflow = async (ctx) => {
      const parts: number[] = [];
      for (let i = 0; i < 4; i++) parts.push(await ctx.step(`part-${i}`, async () => (await new Promise((r) => setTimeout(r, 5)), i)));
      const approval = await ctx.waitForAction({ type: 'approval', title: 'go on?' });
      parts.push(await ctx.step('after', () => 99));
      return { parts, status: approval.status };
    };
    const tokens = new Map<string, string>();
    const errors: unknown[] = [];
    const worker = RuntimeKernel.create({ stores: host, queue: host.queue, workflows: { job }, hostId: 'worker', onActionRequired: (a) => tokens.set(a.jobId, a.resumeToken), onError: (e) => errors.push(e) });
    await worker.startWorker({ concurrency: 4, pollMs: 50, leaseMs: 1_500 });
    const client = RuntimeKernel.create({ stores: front, queue: front.queue, workflows: { job }, hostId: 'front' });
    let cuts = 0;
    let chaos = true;
    // Cuts every 40 ms for 3 s, while the jobs start, pause and resume; then the network is left alone.
    const chaosLoop = (async () => {
      const until = Date.now() + 3_000;
      while (chaos && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 40));
        if (chaos) cuts += await cut(admin, application);
      }
    })();
    try {
      const handles = await Promise.all(Array.from({ length: 12 }, (_, i) => client.execute({ ...scope, workflow: 'job', input: i })));
      const ids = handles.map((h) => h.jobId);
      const statuses = async () => Promise.all(ids.map(async (jobId) => (await front.jobs.get({ jobId, scopeId: scope.scopeId }))!));
      const deadline = Date.now() + 60_000;
      const resumed = new Set<string>();
      for (;;) {
        const jobs = await statuses();
        // Answer each pause once (from the front, whose connections are left alone).
        for (const j of jobs) {
          const token = tokens.get(j.id);
          if (j.status === 'waiting_for_action' && token && !resumed.has(j.id)) {
            resumed.add(j.id);
            await client.resume(token, { approved: true }, { scopeId: scope.scopeId, principalId: 'boss' });
          }
        }
        if (jobs.every((j) => isTerminalJobStatus(j.status))) break;
        if (Date.now() > deadline) throw new Error(`not all jobs ended: ${JSON.stringify(jobs.map((j) => [j.id, j.status]))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      chaos = false;
      await chaosLoop;
      expect(cuts).toBeGreaterThan(0);
      const ended = await statuses();
      for (const j of ended) {
        if (j.status === 'completed') {
          expect(j.result).toEqual({ parts: [0, 1, 2, 3, 99], status: 'resolved' });
          const names = (await front.journal.list({ jobId: j.id, scopeId: scope.scopeId })).map((e) => e.name);
          expect(names.filter((n) => n.startsWith('part-') || n === 'after')).toEqual(['part-0', 'part-1', 'part-2', 'part-3', 'after']);
        } else {
          // An end with a reason: the job's error names what happened.
          expect(['failed', 'dead_lettered']).toContain(j.status);
          expect(j.error?.code ?? j.stateHistory.at(-1)?.reason).toBeTruthy();
        }
        expect(await front.queue.get({ jobId: j.id, scopeId: scope.scopeId }).then((q) => q?.state)).not.toBe('ready');
      }
      // Most jobs make it through: the runtime reconnects rather than giving up.
      expect(ended.filter((j) => j.status === 'completed').length).toBeGreaterThanOrEqual(ended.length / 2);
      expect(errors.every((e) => BatonError.isInstance(e))).toBe(true);
    } finally {
      chaos = false;
      await chaosLoop;
      await worker.close();
      await client.close();
      await host.close();
      await front.close();
      await admin.end();
    }
  }, 90_000);
});
