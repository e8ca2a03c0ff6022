import { ExecutionEngine, ScriptedProvider } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { ChildJobFailedError } from '../errors/orchestration-errors.js';
import type { JobContext } from '../kernel/job-context.js';
import { RuntimeKernel, type RuntimeStores } from '../kernel/runtime-kernel.js';
import type { Workflow } from '../kernel/job-runner.js';
import { ChildJobs, cancelChildJobs } from './child-jobs.js';
import { journalUsage } from './journal-usage.js';
import { scope, stores } from './orchestration.test.helpers.js';

/** Resolves when the job's signal fires, then rethrows the stop. */
function untilStopped(ctx: JobContext): Promise<never> {
  return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
}

describe('ChildJobs', () => {
  it('spawns a child with parentJobId, journals its result, and a resumed parent (new kernel) does not spawn it again', async () => {
    const s = stores();
    const tokens: string[] = [];
    let childRuns = 0;
    const make = (st: RuntimeStores) => {
      const kernel: RuntimeKernel = RuntimeKernel.create({
        stores: st,
        onActionRequired: ({ resumeToken }) => tokens.push(resumeToken),
        workflows: {
          research: async (_ctx, input) => {
            childRuns++;
            return { found: `facts about ${String(input)}` };
          },
          parent: async (ctx, input) => {
            const child = await new ChildJobs({ kernel, ctx }).run({ workflow: 'research', input });
            const approval = await ctx.waitForAction({ type: 'approval', title: 'Publish?' });
            return { child: child.output, approved: approval.status };
          },
        },
      });
      return kernel;
    };
    const first = make(s);
    const handle = await first.execute({ ...scope, workflow: 'parent', input: 'tides' });
    expect((await handle.settled()).status).toBe('waiting_for_action');
    await first.close();

    const second = make(s);
    const { handle: resumed } = await second.resume(tokens[0]!, { approved: true }, { scopeId: scope.scopeId, principalId: 'bob' });
    const result = await resumed!.result();
    expect(result.output).toEqual({ child: { found: 'facts about tides' }, approved: 'resolved' });
    expect(childRuns).toBe(1);
    const children = await second.listJobs({ scopeId: scope.scopeId, parentJobId: handle.jobId });
    expect(children.jobs).toHaveLength(1);
    expect(children.jobs[0]).toMatchObject({ parentJobId: handle.jobId, status: 'completed', idempotencyKey: `child:${handle.jobId}:0` });
    const journal = await s.journal.list({ jobId: handle.jobId, scopeId: scope.scopeId });
    expect(journal[0]).toMatchObject({ stepId: '0', kind: 'child', output: { childJobId: children.jobs[0]!.id, output: { found: 'facts about tides' } } });
  });

  it('with propagateCancellation, a failing child cancels its siblings and fails the parent with an error naming it', async () => {
    let failedChildId = '';
    let caught: unknown;
    const kernel: RuntimeKernel = RuntimeKernel.create({
      workflows: {
        failing: async (ctx) => {
          failedChildId = ctx.jobId;
          await new Promise((r) => setTimeout(r, 5));
          throw new Error('bad data');
        },
        waiting: (ctx) => untilStopped(ctx),
        parent: async (ctx) => {
          try {
            return await new ChildJobs({ kernel, ctx, config: { propagateCancellation: true, maxParallel: 3 } }).runAll([
              { workflow: 'waiting', input: 1 },
              { workflow: 'failing', input: 2 },
              { workflow: 'waiting', input: 3 },
            ]);
          } catch (error) {
            caught = error;
            throw error;
          }
        },
      },
    });
    const handle = await kernel.execute({ ...scope, workflow: 'parent', input: null });
    await expect(handle.result()).rejects.toMatchObject({ code: 'job_failed', errorCode: 'child_job_failed' });
    expect(caught).toBeInstanceOf(ChildJobFailedError);
    expect(caught).toMatchObject({ childJobId: failedChildId, parentJobId: handle.jobId, childStatus: 'failed', message: expect.stringContaining(failedChildId) });
    const children = (await kernel.listJobs({ scopeId: scope.scopeId, parentJobId: handle.jobId })).jobs;
    expect(children.map((c) => c.status).sort()).toEqual(['cancelled', 'cancelled', 'failed']);
  });

  it('without propagateCancellation, siblings finish before the failure surfaces', async () => {
    const kernel: RuntimeKernel = RuntimeKernel.create({
      workflows: {
        failing: () => {
          throw new Error('bad');
        },
        slow: async () => {
          await new Promise((r) => setTimeout(r, 10));
          return 'ok';
        },
        parent: (ctx) => new ChildJobs({ kernel, ctx, config: { propagateCancellation: false } }).runAll([{ workflow: 'failing', input: 1 }, { workflow: 'slow', input: 2 }]),
      },
    });
    const handle = await kernel.execute({ ...scope, workflow: 'parent', input: null });
    await expect(handle.result()).rejects.toMatchObject({ errorCode: 'child_job_failed' });
    const children = (await kernel.listJobs({ scopeId: scope.scopeId, parentJobId: handle.jobId })).jobs;
    expect(children.map((c) => c.status).sort()).toEqual(['completed', 'failed']);
  });

  it('cancelling the parent cancels its running children', async () => {
    let started!: () => void;
    const childStarted = new Promise<void>((r) => (started = r));
    const kernel: RuntimeKernel = RuntimeKernel.create({
      workflows: {
        waiting: (ctx) => {
          started();
          return untilStopped(ctx);
        },
        parent: (ctx) => new ChildJobs({ kernel, ctx }).run({ workflow: 'waiting', input: null }),
      },
    });
    const handle = await kernel.execute({ ...scope, workflow: 'parent', input: null });
    await childStarted;
    await handle.cancel('user stop');
    await expect(handle.result()).rejects.toMatchObject({ code: 'job_cancelled' });
    const [child] = (await kernel.listJobs({ scopeId: scope.scopeId, parentJobId: handle.jobId })).jobs;
    await expect((await kernel.handle(child!.id, scope.scopeId))!.settled()).resolves.toMatchObject({ status: 'cancelled' });
    expect(await cancelChildJobs(kernel, { jobId: handle.jobId, scopeId: scope.scopeId })).toBe(0);
  });

  it('enforces maxChildJobs and maxDepth, and children inherit what is left of the budget', async () => {
    const engine = new ExecutionEngine({ provider: new ScriptedProvider({ loop: true, script: ['x'.repeat(400)] }) });
    const kernel: RuntimeKernel = RuntimeKernel.create({
      engine,
      workflows: {
        leaf: () => 'leaf',
        nested: (ctx) => new ChildJobs({ kernel, ctx, config: { maxDepth: 1 } }).run({ workflow: 'leaf', input: null }),
        spender: async (ctx) => {
          await ctx.callModel({ messages: [{ role: 'user', content: 'spend' }] });
          return new ChildJobs({ kernel, ctx }).run({ workflow: 'leaf', input: null, budgets: { maxToolCalls: 2 } });
        },
        greedy: async (ctx) => {
          const children = new ChildJobs({ kernel, ctx, config: { maxChildJobs: 1 } });
          await children.run({ workflow: 'leaf', input: null });
          return children.run({ workflow: 'leaf', input: null });
        },
        root: (ctx) => new ChildJobs({ kernel, ctx, config: { maxDepth: 1 } }).run({ workflow: 'nested', input: null }),
      },
    });
    const greedy = await kernel.execute({ ...scope, workflow: 'greedy', input: null });
    await expect(greedy.result()).rejects.toMatchObject({ errorCode: 'child_job_limit', message: expect.stringContaining('maxChildJobs') });

    const root = await kernel.execute({ ...scope, workflow: 'root', input: null });
    await expect(root.result()).rejects.toMatchObject({ errorCode: 'child_job_failed', message: expect.stringContaining('maxDepth') });

    const spender = await kernel.execute({ ...scope, workflow: 'spender', input: null, budgets: { maxTokens: 1000 } });
    await spender.result();
    const used = journalUsage(await kernel.stores.journal.list({ jobId: spender.jobId, scopeId: scope.scopeId }));
    const [child] = (await kernel.listJobs({ scopeId: scope.scopeId, parentJobId: spender.jobId })).jobs;
    // The parent's own call before the spawn is taken off; the child's own limit tightens it.
    expect(child!.budgets).toEqual({ maxTokens: 1000 - used.tokens, maxToolCalls: 2 });
    expect(used.modelCalls).toBe(1);

    const poor = await kernel.execute({ ...scope, workflow: 'spender', input: null, budgets: { maxTokens: 50 } });
    await expect(poor.result()).rejects.toMatchObject({ errorCode: 'child_job_limit', message: expect.stringContaining('budget is spent') });
  });

  it('a child past timeoutSeconds fails with a timeout, which the parent sees as ChildJobFailedError; children run one at a time without parallelExecution', async () => {
    let running = 0;
    let peak = 0;
    const kernel: RuntimeKernel = RuntimeKernel.create({
      workflows: {
        hang: (ctx) => untilStopped(ctx),
        quick: async () => {
          peak = Math.max(peak, ++running);
          await new Promise((r) => setTimeout(r, 2));
          running--;
          return 'ok';
        },
        sequential: (ctx) => new ChildJobs({ kernel, ctx, config: { parallelExecution: false } }).runAll([{ workflow: 'quick', input: 1 }, { workflow: 'quick', input: 2 }, { workflow: 'quick', input: 3 }]),
        parent: (ctx) => new ChildJobs({ kernel, ctx, config: { timeoutSeconds: 0.05 } }).run({ workflow: 'hang', input: null }),
      },
    });
    const sequential = await kernel.execute({ ...scope, workflow: 'sequential', input: null });
    expect((await sequential.result()).output).toMatchObject([{ output: 'ok' }, { output: 'ok' }, { output: 'ok' }]);
    expect(peak).toBe(1);
    const handle = await kernel.execute({ ...scope, workflow: 'parent', input: null });
    await expect(handle.result()).rejects.toMatchObject({ errorCode: 'child_job_failed', message: expect.stringMatching(/timed out/) });
  });

  it('rejects bad requests and config with InvalidArgumentError', async () => {
    const kernel = RuntimeKernel.create();
    const wf: Workflow = (ctx) => new ChildJobs({ kernel, ctx, config: { maxParallel: 0 } }).run({ input: 1 });
    kernel.registerWorkflow('bad-config', wf);
    kernel.registerWorkflow('bad-request', (ctx) => new ChildJobs({ kernel, ctx }).run({ input: undefined as never }));
    await expect((await kernel.execute({ ...scope, workflow: 'bad-config', input: null })).result()).rejects.toMatchObject({ errorCode: 'invalid_argument', message: expect.stringContaining('config.maxParallel') });
    await expect((await kernel.execute({ ...scope, workflow: 'bad-request', input: null })).result()).rejects.toMatchObject({ errorCode: 'invalid_argument', message: expect.stringContaining('request.input') });
  });
});
