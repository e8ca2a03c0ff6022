import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeKernel, type RuntimeEvent } from '@baton/agent-runtime';
import { createPostgresStores } from './create-stores.js';
import { DATABASE_URL, dropSchema, freshSchemaName, listeningBackendPid, postgresAvailable } from './test-helpers/environment.js';

const available = await postgresAvailable();
const here = dirname(fileURLToPath(import.meta.url));
const scope = { scopeId: 'acme', principalId: 'alice' };

interface Worker {
  proc: ChildProcess;
  lines: Array<Record<string, unknown>>;
  waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

function startWorker(schema: string, hostId: string): Worker {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(here, 'multi-process-worker.fixture.ts')], {
    cwd: join(here, '..'),
    env: { ...process.env, DATABASE_URL, BATON_SCHEMA: schema, BATON_HOST: hostId },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
      for (const w of waiters.splice(0)) w();
    } catch {
      // not one of ours
    }
  });
  return {
    proc,
    lines,
    async waitFor(pred, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(pred);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`worker ${hostId}: timed out; saw ${JSON.stringify(lines)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!available)('workers in separate processes on Postgres', () => {
  const schema = freshSchemaName('baton_mp');
  const effects = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const workers: Worker[] = [];
  let stores: Awaited<ReturnType<typeof createPostgresStores>>;
  let client: RuntimeKernel;

  beforeAll(async () => {
    stores = await createPostgresStores({ connectionString: DATABASE_URL, schema });
    await effects.query(`CREATE TABLE "${schema}".effects (job_id text NOT NULL, step text NOT NULL, host text NOT NULL)`);
    // The client only enqueues and follows; it runs no worker.
    client = RuntimeKernel.create({ stores, queue: stores.queue, hostId: 'client', workflows: { pay: () => undefined, approve: () => undefined, steps: () => undefined } });
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) w.proc.kill('SIGKILL');
    await client?.close();
    await stores?.close();
    await effects.end();
    await dropSchema(schema);
  });

  it('kill -9 of the worker running a job mid-step: another process finishes it, each side effect exactly once', async () => {
    const a = startWorker(schema, 'worker-a');
    workers.push(a);
    await a.waitFor((l) => l['type'] === 'ready');
    const handle = await client.execute({ ...scope, workflow: 'pay', input: { slowMs: 60_000, slowOn: 'worker-a' } });

    // Worker A has charged the card and is inside the slow step.
    await until('the charge step on worker A', async () => {
      const { rows } = await effects.query(`SELECT host FROM "${schema}".effects WHERE job_id = $1`, [handle.jobId]);
      return rows.length === 1 ? rows : undefined;
    });
    const b = startWorker(schema, 'worker-b');
    workers.push(b);
    await b.waitFor((l) => l['type'] === 'ready');
    a.proc.kill('SIGKILL');

    const job = await until('the job to complete on worker B', async () => {
      const j = await stores.jobs.get({ jobId: handle.jobId, scopeId: 'acme' });
      return j?.status === 'completed' ? j : undefined;
    }, 45_000);
    expect(job.result).toEqual({ host: 'worker-b' });
    const { rows } = await effects.query(`SELECT step, host FROM "${schema}".effects WHERE job_id = $1 ORDER BY step`, [handle.jobId]);
    expect(rows).toEqual([
      { step: 'charge', host: 'worker-a' },
      { step: 'receipt', host: 'worker-b' },
      { step: 'slow-work', host: 'worker-b' },
    ]);
    const reasons = job.stateHistory.map((h) => h.reason ?? '');
    expect(reasons).toContain('started on worker-a');
    expect(reasons).toContain('taken over on worker-b');
  }, 90_000);

  it('a job waits for an action in a worker process; resolving it from this process resumes it there', async () => {
    const b = workers.find((w) => w.proc.exitCode === null && w.proc.signalCode === null) ?? startWorker(schema, 'worker-c');
    if (!workers.includes(b)) workers.push(b);
    await b.waitFor((l) => l['type'] === 'ready');
    const handle = await client.execute({ ...scope, workflow: 'approve', input: null });
    const action = await b.waitFor((l) => l['type'] === 'action' && l['jobId'] === handle.jobId);
    await until('the job to wait', async () => ((await stores.jobs.get({ jobId: handle.jobId, scopeId: 'acme' }))?.status === 'waiting_for_action' ? true : undefined));
    const t0 = performance.now();
    await client.resume(String(action['resumeToken']), { approved: true }, { scopeId: 'acme', principalId: 'bob' });
    const job = await until('the job to complete', async () => {
      const j = await stores.jobs.get({ jobId: handle.jobId, scopeId: 'acme' });
      return j?.status === 'completed' ? j : undefined;
    });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(job.result).toMatchObject({ approved: true });
    const { rows } = await effects.query(`SELECT step FROM "${schema}".effects WHERE job_id = $1`, [handle.jobId]);
    expect(rows).toEqual([{ step: 'ship' }]);
  }, 60_000);

  it("follows a job running in a worker process while this process's listening connection is cut: every event arrives, in order, to the last", async () => {
    const w = workers.find((x) => x.proc.exitCode === null && x.proc.signalCode === null) ?? startWorker(schema, 'worker-d');
    if (!workers.includes(w)) workers.push(w);
    await w.waitFor((l) => l['type'] === 'ready');
    const handle = await client.execute({ ...scope, workflow: 'steps', input: { n: 12, delayMs: 60 } });
    const seen: RuntimeEvent[] = [];
    let cut = 0;
    for await (const e of handle.events()) {
      seen.push(e);
      if (cut === 0 && seen.filter((x) => x.type === 'step.completed').length === 3) {
        // This process's LISTEN connection goes; it reconnects after 50 ms at the least, while the job runs on.
        const pid = listeningBackendPid(stores.database.client);
        const { rows } = await effects.query('SELECT pg_terminate_backend($1) AS ok', [pid]);
        cut = rows.filter((r: { ok: boolean }) => r.ok).length;
      }
    }
    expect(cut).toBe(1);
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    expect(seen.filter((e) => e.type === 'step.completed')).toHaveLength(12);
    expect(seen[seen.length - 1]).toMatchObject({ type: 'job.completed', data: { result: { n: 12 } } });
  }, 60_000);

  it('cancel() from this process while the job runs in a worker process: written here at once, and the worker stops', async () => {
    const w = workers.find((x) => x.proc.exitCode === null && x.proc.signalCode === null) ?? startWorker(schema, 'worker-e');
    if (!workers.includes(w)) workers.push(w);
    await w.waitFor((l) => l['type'] === 'ready');
    const handle = await client.execute({ ...scope, workflow: 'steps', input: { n: 30, delayMs: 50 } });
    const ref = { jobId: handle.jobId, scopeId: 'acme' };
    await until('three steps done on the worker', async () => ((await stores.journal.head(ref)).nextSeq >= 3 ? true : undefined));
    const result = handle.result().catch((e: unknown) => e);
    const cancelled = await client.cancel(handle.jobId, 'acme', 'stopped by the user');
    expect(cancelled?.status).toBe('cancelled');
    expect(await result).toMatchObject({ code: 'job_cancelled' });
    const stepsAtCancel = (await stores.journal.head(ref)).nextSeq;
    // The worker hears of it and stops: no further step is stored, and it lets go of the job.
    await until('the queue row to go', async () => ((await stores.queue.get(ref)) === undefined ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await stores.journal.head(ref)).nextSeq).toBeLessThanOrEqual(stepsAtCancel + 1);
    const job = await stores.jobs.get(ref);
    expect(job?.status).toBe('cancelled');
    expect(job?.stateHistory.map((h) => h.status)).not.toContain('completed');
  }, 60_000);
});
