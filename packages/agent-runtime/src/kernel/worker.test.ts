import { describe, expect, it } from 'vitest';
import { InMemoryJobQueue } from '../jobs/in-memory-job-queue.js';
import { RuntimeKernel } from './runtime-kernel.js';
import { memoryStores as stores, silentHeartbeats } from './kernel.test.helpers.js';
import type { Workflow } from './job-runner.js';

const scope = { scopeId: 'tenant-a', principalId: 'alice' };

describe('workers', () => {
  it('run queued jobs under a lease, up to their concurrency, and ack them', async () => {
    const s = stores();
    const queue = new InMemoryJobQueue();
    let running = 0;
    let peak = 0;
    const wf: Workflow = async (ctx) =>
      ctx.step('work', async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 10));
        running--;
        return 'ok';
      });
    const client = RuntimeKernel.create({ stores: s, queue, workflows: { wf }, hostId: 'client' });
    const worker = RuntimeKernel.create({ stores: s, queue, workflows: { wf }, hostId: 'worker-1' });
    await worker.startWorker({ concurrency: 2, pollMs: 5, leaseMs: 1000 });
    const handles = await Promise.all(Array.from({ length: 6 }, (_, i) => client.execute({ ...scope, workflow: 'wf', input: i })));
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.map((r) => r.output)).toEqual(Array(6).fill('ok'));
    expect(peak).toBe(2);
    const job = (await client.getJob(handles[0]!.jobId, 'tenant-a'))!;
    expect(job.stateHistory.find((h) => h.status === 'running')?.reason).toBe('started on worker-1');
    expect(await queue.get({ jobId: handles[0]!.jobId, scopeId: 'tenant-a' })).toBeUndefined();
    await worker.close();
  });

  it('a job enqueued while the worker is claiming is started on its wake-up, not at the next poll', async () => {
    const s = stores();
    const queue = new InMemoryJobQueue();
    // The second job is enqueued (and its wake-up sent) while the worker's claim after the first
    // job's run is under way, having read the queue before.
    let claims = 0;
    let release: (() => void) | undefined;
    const slow = new Proxy(queue, {
      get(target, prop, receiver) {
        if (prop === 'claim') {
          return async (options: Parameters<InMemoryJobQueue['claim']>[0]) => {
            const n = ++claims;
            const result = await target.claim(options);
            // The claim after the first job's run reads the queue, then is slow to come back.
            if (n === 3) await new Promise<void>((r) => (release = r));
            return result;
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const wf: Workflow = async (ctx) => ctx.step('work', () => 'ok');
    const client = RuntimeKernel.create({ stores: s, queue, workflows: { wf }, hostId: 'client' });
    const worker = RuntimeKernel.create({ stores: s, queue: slow, workflows: { wf }, hostId: 'worker' });
    await worker.startWorker({ concurrency: 2, pollMs: 60_000, leaseMs: 1000 });
    const first = await client.execute({ ...scope, workflow: 'wf', input: 1 });
    await first.result();
    while (!release) await new Promise((r) => setTimeout(r, 1));
    const second = await client.execute({ ...scope, workflow: 'wf', input: 2 });
    release(); // the claim under way finds nothing new (it read the queue before); the wake-up it missed is kept
    const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the job waited for the poll: its wake-up was lost')), 5_000).unref());
    expect((await Promise.race([second.result(), late])).output).toBe('ok');
    await worker.close();
  });

  it('a worker that stops heartbeating loses its job to another, which continues from the journal; the first cannot write any more', async () => {
    const s = stores();
    const queue = new InMemoryJobQueue();
    const effects: string[] = [];
    let releaseA!: () => void;
    const blockA = new Promise<void>((r) => (releaseA = r));
    const wfFor = (host: string): Workflow => async (ctx) => {
      const first = await ctx.step('charge-card', ({ key }) => {
        effects.push(`charge@${host}:${key}`);
        return 'charged';
      });
      if (host === 'a') await blockA; // host A hangs here, as if its process had frozen
      const second = await ctx.step('send-receipt', () => {
        effects.push(`receipt@${host}`);
        return 'sent';
      });
      return [first, second];
    };
    const hostA = RuntimeKernel.create({ stores: s, queue: silentHeartbeats(queue), workflows: { pay: wfFor('a') }, hostId: 'a' });
    const hostB = RuntimeKernel.create({ stores: s, queue, workflows: { pay: wfFor('b') }, hostId: 'b' });
    await hostA.startWorker({ concurrency: 1, pollMs: 5, leaseMs: 60, heartbeatMs: 20 });
    const handle = await hostA.execute({ ...scope, workflow: 'pay', input: null });
    while (effects.length === 0) await new Promise((r) => setTimeout(r, 5));
    await hostB.startWorker({ concurrency: 1, pollMs: 5, leaseMs: 1000 });

    const result = await handle.result();
    expect(result.output).toEqual(['charged', 'sent']);
    expect(effects).toEqual([`charge@a:${handle.jobId}:0`, 'receipt@b']);
    const job = (await hostB.getJob(handle.jobId, 'tenant-a'))!;
    expect(job.stateHistory.map((h) => h.reason ?? h.status)).toContain('taken over on b');

    // Host A wakes up: its write is fenced off and the job stays completed.
    releaseA();
    await new Promise((r) => setTimeout(r, 30));
    expect(effects).toEqual([`charge@a:${handle.jobId}:0`, 'receipt@b', 'receipt@a']);
    const after = (await hostB.getJob(handle.jobId, 'tenant-a'))!;
    expect(after.status).toBe('completed');
    const journal = await s.journal.list({ jobId: handle.jobId, scopeId: 'tenant-a' });
    expect(journal.map((e) => e.name)).toEqual(['charge-card', 'send-receipt']);
    await hostA.close();
    await hostB.close();
  });

  it('a job waiting for an action holds no worker; the resolution enqueues it again', async () => {
    const s = stores();
    const queue = new InMemoryJobQueue();
    let token = '';
    const wf: Workflow = async (ctx) => {
      const answer = await ctx.waitForAction({ type: 'approval', title: 'Go?' });
      return (answer.resolution as { approved: boolean }).approved;
    };
    const kernel = RuntimeKernel.create({ stores: s, queue, workflows: { wf }, onActionRequired: (a) => (token = a.resumeToken) });
    const worker = await kernel.startWorker({ concurrency: 1, pollMs: 5 });
    const handle = await kernel.execute({ ...scope, workflow: 'wf', input: null });
    expect((await handle.settled()).status).toBe('waiting_for_action');
    await new Promise((r) => setTimeout(r, 10));
    expect(worker.active).toBe(0);
    await kernel.resume(token, { approved: true }, { scopeId: 'tenant-a', principalId: 'bob' });
    await expect(handle.result()).resolves.toMatchObject({ output: true });
    await kernel.close();
  });

  it('shutdown hands unfinished jobs back; another worker finishes them', async () => {
    const s = stores();
    const queue = new InMemoryJobQueue();
    const slow: Workflow = async (ctx) => {
      await ctx.step('one', () => 1);
      await ctx.step('wait', () => new Promise((r) => setTimeout(r, ctx.signal.aborted ? 0 : 200)));
      ctx.throwIfStopped();
      return 'done';
    };
    const a = RuntimeKernel.create({ stores: s, queue, workflows: { slow }, hostId: 'a' });
    await a.startWorker({ concurrency: 1, pollMs: 5 });
    const handle = await a.execute({ ...scope, workflow: 'slow', input: null });
    while (((await s.journal.list({ jobId: handle.jobId, scopeId: 'tenant-a' })).length) === 0) await new Promise((r) => setTimeout(r, 5));
    await a.close({ deadlineMs: 0 });
    expect((await s.jobs.get({ jobId: handle.jobId, scopeId: 'tenant-a' }))!.status).toBe('queued');
    const b = RuntimeKernel.create({ stores: s, queue, workflows: { slow }, hostId: 'b' });
    await b.startWorker({ concurrency: 1, pollMs: 5 });
    const h2 = (await b.handle(handle.jobId, 'tenant-a'))!;
    await expect(h2.result()).resolves.toMatchObject({ output: 'done' });
    await b.close();
  });

  it('a session runs one job at a time on workers: an enqueued message waits for the running one', async () => {
    const s = stores();
    const queue = new InMemoryJobQueue();
    const order: string[] = [];
    const wf: Workflow = async (ctx, input) =>
      ctx.step('answer', async () => {
        order.push(`start ${String(input)}`);
        await new Promise((r) => setTimeout(r, 30));
        order.push(`end ${String(input)}`);
        return input;
      });
    const kernel = RuntimeKernel.create({ stores: s, queue, workflows: { wf } });
    await kernel.startWorker({ concurrency: 2, pollMs: 5 });
    const first = await kernel.execute({ ...scope, sessionId: 'chat', workflow: 'wf', input: 'one' });
    while (order.length === 0) await new Promise((r) => setTimeout(r, 2));
    const second = await kernel.execute({ ...scope, sessionId: 'chat', workflow: 'wf', input: 'two', strategy: 'enqueue' });
    await Promise.all([first.result(), second.result()]);
    expect(order).toEqual(['start one', 'end one', 'start two', 'end two']);
    await kernel.close();
  });

  /** A job that runs `first` (waiting on a gate), then `second`, recording each side effect. */
  function gatedWorkflow() {
    const effects: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let entered!: () => void;
    const started = new Promise<void>((r) => (entered = r));
    const wf: Workflow = async (ctx) => {
      await ctx.step('first', async () => {
        entered();
        await gate;
        effects.push('first');
        return 1;
      });
      await ctx.step('second', () => void effects.push('second'));
      return 'done';
    };
    return { wf, effects, open: () => open(), started };
  }

  /**
   * A worker host running the gated workflow, and another host on the same stores and queue that
   * runs no worker; with `lossy`, the other host's signals are lost on the way.
   */
  async function twoHosts(options: { lossy: boolean; leaseMs?: number; other?: Partial<Parameters<typeof RuntimeKernel.create>[0]> }) {
    const s = stores();
    const queue = new InMemoryJobQueue();
    const gated = gatedWorkflow();
    const worker = RuntimeKernel.create({ stores: s, queue, workflows: { wf: gated.wf }, hostId: 'worker' });
    await worker.startWorker({ pollMs: 5, leaseMs: options.leaseMs ?? 5_000 });
    const signals = options.lossy ? ({ ...s.signals, publish: async () => undefined, subscribe: s.signals.subscribe.bind(s.signals) } as unknown as typeof s.signals) : s.signals;
    const other = RuntimeKernel.create({ stores: { ...s, signals }, queue, hostId: 'other', ...options.other, workflows: { wf: gated.wf, ...options.other?.workflows } });
    return { ...gated, queue, worker, other };
  }

  it('cancel() from another host writes the cancellation: it holds even when the running host never hears of it', async () => {
    // The other host's signals are lost on the way: the worker never hears of the cancel.
    const { effects, open, started, queue, worker, other } = await twoHosts({ lossy: true });
    const handle = await other.execute({ ...scope, workflow: 'wf', input: null });
    await started;
    const cancelled = await other.cancel(handle.jobId, scope.scopeId, 'stop it');
    expect(cancelled?.status).toBe('cancelled');
    await expect(handle.result()).rejects.toMatchObject({ code: 'job_cancelled' });
    // The worker's run finishes its step, then finds its journal fenced: it writes no more and runs no further step.
    open();
    await new Promise((r) => setTimeout(r, 50));
    expect(effects).toEqual(['first']);
    const job = await other.getJob(handle.jobId, scope.scopeId);
    expect(job?.status).toBe('cancelled');
    expect(job?.stateHistory.map((h) => h.status)).not.toContain('completed');
    // Fenced out by the cancel, the worker lets go of the queue row at once (its lease runs 5 s).
    expect(await queue.get({ jobId: handle.jobId, scopeId: scope.scopeId })).toBeUndefined();
    await worker.close();
  });

  it('cancel() from another host stops the run there at once when its signal arrives', async () => {
    const { effects, open, started, queue, worker, other } = await twoHosts({ lossy: false });
    const handle = await other.execute({ ...scope, workflow: 'wf', input: null });
    await started;
    expect((await other.cancel(handle.jobId, scope.scopeId))?.status).toBe('cancelled');
    await expect(handle.result()).rejects.toMatchObject({ code: 'job_cancelled' });
    open();
    await new Promise((r) => setTimeout(r, 50));
    expect(effects).not.toContain('second');
    expect((await other.getJob(handle.jobId, scope.scopeId))?.status).toBe('cancelled');
    // The worker let go of the job: nothing of it is left on the queue.
    expect(await queue.get({ jobId: handle.jobId, scopeId: scope.scopeId })).toBeUndefined();
    await worker.close();
  });

  it("a newer message interrupts its session's job running on another host even when that host never hears of it", async () => {
    const { effects, open, started, worker, other } = await twoHosts({ lossy: true, leaseMs: 10_000, other: { workflows: { next: async () => 'next' }, sessionStrategy: 'interrupt' } });
    const first = await other.execute({ ...scope, sessionId: 'chat', workflow: 'wf', input: null });
    await started;
    const t0 = Date.now();
    const second = await other.execute({ ...scope, sessionId: 'chat', workflow: 'next', input: null, strategy: 'interrupt' });
    // It waited for the worker's answer (5 s), then wrote the interruption itself.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4_900);
    const old = await other.getJob(first.jobId, scope.scopeId);
    expect(old?.status).toBe('interrupted');
    expect((old?.result as { interrupted?: { jobId: string } }).interrupted?.jobId).toBe(first.jobId);
    expect(second.created).toBe(true);
    // The worker's run, going on, stores no further step.
    open();
    await new Promise((r) => setTimeout(r, 50));
    expect(effects).toEqual(['first']);
    expect((await other.getJob(first.jobId, scope.scopeId))?.status).toBe('interrupted');
    await worker.close();
    await other.close();
  }, 15_000);
});
