import { ExecutionEngine, ScriptedProvider } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import type { Workflow } from '../kernel/job-runner.js';
import { RuntimeKernel } from '../kernel/runtime-kernel.js';
import { scope, stores } from '../orchestration/orchestration.test.helpers.js';
import { forkJob } from './fork-job.js';

describe('forkJob', () => {
  function setup() {
    const counts = { load: 0, score: 0 };
    const provider = new ScriptedProvider({ script: (req) => `verdict for ${req.messages.at(-1)?.content}` });
    const workflow: Workflow = async (ctx) => {
      const value = await ctx.step('load', () => (counts.load++, 2));
      const review = await ctx.callModel({ messages: [{ role: 'user', content: `value ${value}` }] });
      const score = await ctx.step('score', () => (counts.score++, value * 10));
      return { value, review: review.text, score };
    };
    const s = stores();
    const kernel = RuntimeKernel.create({ stores: s, engine: new ExecutionEngine({ provider }), workflows: { review: workflow } });
    return { counts, provider, kernel, s };
  }

  it('forks from step k: keeps the first k steps (with the state edited), runs the rest live, leaves the original intact', async () => {
    const { counts, provider, kernel, s } = setup();
    const original = await kernel.execute({ ...scope, workflow: 'review', input: null });
    expect((await original.result()).output).toEqual({ value: 2, review: 'verdict for value 2', score: 20 });
    const before = await s.journal.list({ jobId: original.jobId, scopeId: scope.scopeId });

    const fork = await forkJob(kernel, {
      jobId: original.jobId,
      scopeId: scope.scopeId,
      atStep: 2,
      edit: (state) => {
        state.steps[1]!.output = { ...(state.steps[1]!.output as object), text: 'edited verdict' };
      },
    });
    expect((await fork.result()).output).toEqual({ value: 2, review: 'edited verdict', score: 20 });
    // load and the model call came from the journal; only `score` ran again.
    expect(counts).toEqual({ load: 1, score: 2 });
    expect(provider.calls).toHaveLength(1);

    const forked = (await kernel.getJob(fork.jobId, scope.scopeId))!;
    expect(forked.metadata).toMatchObject({ workflow: 'review', forkOf: { jobId: original.jobId, atStep: 2, edited: true } });
    const forkJournal = await s.journal.list({ jobId: fork.jobId, scopeId: scope.scopeId });
    expect(forkJournal.map((e) => [e.stepId, e.name])).toEqual([['0', 'load'], ['1', 'scripted-1'], ['2', 'score']]);
    expect(forkJournal[0]!.key).toBe(`${fork.jobId}:0`);

    expect(await s.journal.list({ jobId: original.jobId, scopeId: scope.scopeId })).toEqual(before);
    expect((await kernel.getJob(original.jobId, scope.scopeId))!.status).toBe('completed');
  });

  it('forks from step 1 with a new model call, and rejects steps out of range or unknown jobs', async () => {
    const { provider, kernel } = setup();
    const original = await kernel.execute({ ...scope, workflow: 'review', input: null });
    await original.result();
    const fork = await forkJob(kernel, { jobId: original.jobId, scopeId: scope.scopeId, atStep: 1, edit: (state) => void (state.steps[0]!.output = 7) });
    expect((await fork.result()).output).toEqual({ value: 7, review: 'verdict for value 7', score: 70 });
    expect(provider.calls).toHaveLength(2);
    await expect(forkJob(kernel, { jobId: original.jobId, scopeId: scope.scopeId, atStep: 4 })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'atStep' });
    await expect(forkJob(kernel, { jobId: original.jobId, scopeId: 'tenant-b', atStep: 0 })).rejects.toMatchObject({ code: 'job_not_found' });
  });
});
