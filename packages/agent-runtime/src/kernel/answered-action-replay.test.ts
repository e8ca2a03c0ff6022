import { describe, expect, it } from 'vitest';
import { InMemoryJobQueue } from '../jobs/in-memory-job-queue.js';
import type { Workflow } from './job-runner.js';
import { RuntimeKernel } from './runtime-kernel.js';
import { memoryStores as stores, silentHeartbeats } from './kernel.test.helpers.js';

// An answered wait is journaled with the run's next write, not on its own: a run that dies
// between the two leaves no entry for it, and the next run reads the answer from the action
// store again.

const scope = { scopeId: 'tenant-a', principalId: 'alice' };

const until = async (check: () => Promise<boolean> | boolean): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('an answered wait on resume', () => {
  it('is journaled with the next step in one write, and a single-kernel resume keeps its seq', async () => {
    const s = stores();
    let token = '';
    const approve: Workflow = async (ctx) => {
      await ctx.step('plan', () => 'plan');
      const outcome = await ctx.waitForAction({ type: 'approval', title: 'Ship?' });
      return ctx.step('ship', () => outcome.status);
    };
    const kernel = RuntimeKernel.create({ stores: s, workflows: { approve }, onActionRequired: (info) => (token = info.resumeToken) });
    const handle = await kernel.execute({ ...scope, workflow: 'approve', input: null });
    expect((await handle.settled()).status).toBe('waiting_for_action');
    const writes: number[] = [];
    const { append, appendMany } = s.journal;
    s.journal.append = (entry, options) => (writes.push(1), append.call(s.journal, entry, options));
    s.journal.appendMany = (entries, options, outbox) => (writes.push(entries.length), appendMany.call(s.journal, entries, options, outbox));
    const { handle: resumed } = await kernel.resume(token, { approved: true }, { scopeId: scope.scopeId, principalId: 'bob' });
    expect((await resumed!.result()).output).toBe('resolved');
    expect(writes).toEqual([2]);
    const journal = await s.journal.list({ jobId: handle.jobId, scopeId: scope.scopeId });
    expect(journal.map((e) => [e.seq, e.stepId, e.kind, e.name])).toEqual([
      [0, '0', 'custom', 'plan'],
      [1, '1', 'action', 'approval'],
      [2, '2', 'custom', 'ship'],
    ]);
    expect(journal[1]!.output).toMatchObject({ status: 'resolved', resolution: { approved: true }, resolvedBy: 'bob' });
    await kernel.close();
  });

  it('is read from the action store again when the run dies before its next write', async () => {
    const s = stores();
    const queue = new InMemoryJobQueue();
    let token = '';
    const effects: string[] = [];
    let releaseA!: () => void;
    const blockA = new Promise<void>((r) => (releaseA = r));
    let aFrozen = false;
    const wfFor =
      (host: string): Workflow =>
      async (ctx) => {
        await ctx.step('plan', () => 'plan');
        const outcome = await ctx.waitForAction({ type: 'approval', title: 'Ship?' });
        if (host === 'a') {
          // Host A freezes between the answer and its next write, as if its process had died.
          aFrozen = true;
          await blockA;
        }
        return ctx.step('ship', () => {
          effects.push(`ship@${host}:${JSON.stringify(outcome.resolution)}`);
          return outcome.status;
        });
      };
    const onActionRequired = (info: { resumeToken: string }) => void (token = info.resumeToken);
    const hostA = RuntimeKernel.create({ stores: s, queue: silentHeartbeats(queue), workflows: { ship: wfFor('a') }, hostId: 'a', onActionRequired });
    const hostB = RuntimeKernel.create({ stores: s, queue, workflows: { ship: wfFor('b') }, hostId: 'b' });
    await hostA.startWorker({ concurrency: 1, pollMs: 5, leaseMs: 60, heartbeatMs: 20 });
    const handle = await hostA.execute({ ...scope, workflow: 'ship', input: null });
    const ref = { jobId: handle.jobId, scopeId: scope.scopeId };
    await until(async () => (await s.jobs.get(ref))?.status === 'waiting_for_action');

    await hostA.resume(token, { approved: true, comment: 'go' }, { scopeId: scope.scopeId, principalId: 'bob' });
    await until(() => aFrozen);
    // The answer is in the action store; the journal has nothing for it yet.
    expect((await s.journal.list(ref)).map((e) => e.name)).toEqual(['plan']);
    expect((await s.actions.listByJob(ref)).map((a) => a.status)).toEqual(['resolved']);

    // Host A's lease runs out; host B takes the job over and replays it from the journal.
    await hostB.startWorker({ concurrency: 1, pollMs: 5, leaseMs: 1000 });
    await until(async () => (await s.jobs.get(ref))?.status === 'completed');
    const job = (await s.jobs.get(ref))!;
    expect(job.result).toBe('resolved');
    expect(job.stateHistory.map((h) => h.reason ?? h.status)).toContain('taken over on b');
    expect(effects).toEqual(['ship@b:{"approved":true,"comment":"go"}']);
    const journal = await s.journal.list(ref);
    expect(journal.map((e) => [e.seq, e.stepId, e.name])).toEqual([
      [0, '0', 'plan'],
      [1, '1', 'approval'],
      [2, '2', 'ship'],
    ]);
    expect(journal[1]!.output).toMatchObject({ status: 'resolved', resolution: { approved: true, comment: 'go' }, resolvedBy: 'bob' });

    // Host A wakes up: its write, the answer's entry with it, is fenced off.
    releaseA();
    await until(() => effects.length === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(await s.journal.list(ref)).toEqual(journal);
    expect((await s.jobs.get(ref))!.status).toBe('completed');
    await hostA.close();
    await hostB.close();
  });
});
