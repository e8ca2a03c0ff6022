import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionEngine, ScriptedProvider } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { ReplayDivergenceError } from '../errors/kernel-errors.js';
import type { JobContext } from '../kernel/job-context.js';
import { RuntimeKernel } from '../kernel/runtime-kernel.js';
import { scope, stores } from '../orchestration/orchestration.test.helpers.js';
import { replayJob } from './job-replayer.js';
import { Recording } from './recording.js';
import { ReplayProvider } from './replay-provider.js';
import { ReplayRecorder } from './replay-recorder.js';
import { weatherAgent, weatherModel } from './replay.test.helpers.js';
import { RunMetadata } from './run-metadata.js';

/** A provider that must never be reached. */
function forbiddenProvider(): ScriptedProvider {
  return new ScriptedProvider({ script: () => ({ error: new Error('a replay called the provider') }) });
}

async function recordAgentRun() {
  const s = stores();
  const lookups: string[] = [];
  const kernel = RuntimeKernel.create({ stores: s, agent: weatherAgent(weatherModel(), lookups) });
  const recorder = new ReplayRecorder(s.events, RunMetadata.create({ runtimeVersion: '0.0.0', modelVersion: 'scripted-1' }), { journal: s.journal, jobs: s.jobs });
  recorder.start('Weather in Paris?');
  const handle = await kernel.execute({ ...scope, input: 'Weather in Paris?' });
  await handle.result();
  const recording = await recorder.stop();
  const path = join(await mkdtemp(join(tmpdir(), 'baton-replay-')), 'run.json');
  await recording.save(path);
  return { recording: await Recording.load(path), jobId: handle.jobId, lookups };
}

/** fetch → model → summarize, with counters. */
function pipeline(counts: { fetch: number; summarize: number }, variant: 'same' | 'changed' | 'longer' = 'same') {
  return async (ctx: JobContext) => {
    const page = await ctx.step('fetch', () => (counts.fetch++, 'page text'));
    if (variant === 'changed') return ctx.step('translate', () => 'traduction');
    const answer = await ctx.callModel({ messages: [{ role: 'user', content: `Summarize: ${page}` }] });
    const summary = await ctx.step('summarize', () => (counts.summarize++, answer.text.toUpperCase()));
    if (variant === 'longer') await ctx.step('publish', () => 'published');
    return { summary };
  };
}

describe('deterministic re-execution', () => {
  it('re-runs an agent job from a loaded recording on a new kernel: same answer, no provider call, no tool run', async () => {
    const { recording, jobId, lookups } = await recordAgentRun();
    expect(lookups).toEqual(['Paris']);
    const provider = forbiddenProvider();
    const replayLookups: string[] = [];
    const kernel = RuntimeKernel.create({ stores: stores(), engine: new ExecutionEngine({ provider: new ReplayProvider({ recording, jobId }) }) });
    const outcome = await replayJob(kernel, { recording, jobId, scopeId: scope.scopeId, agents: { default: weatherAgent(provider, replayLookups) } });
    expect(outcome).toMatchObject({ originalJobId: jobId, sameOutput: true, replayedSteps: 3, unusedSteps: [], output: { text: 'It is sunny in Paris.' } });
    expect(provider.calls).toHaveLength(0);
    expect(replayLookups).toEqual([]);
    // The replay appended nothing to the recorded journal.
    expect(await kernel.stores.journal.list({ jobId: outcome.jobId, scopeId: scope.scopeId })).toHaveLength(recording.journal(jobId).length);
  });

  it('fails with ReplayDivergenceError naming the step and both sides when the code asks for another step', async () => {
    const s = stores();
    const counts = { fetch: 0, summarize: 0 };
    const kernel = RuntimeKernel.create({ stores: s, engine: new ExecutionEngine({ provider: new ScriptedProvider({ script: ['a short summary'] }) }), workflows: { pipeline: pipeline(counts) } });
    const handle = await kernel.execute({ ...scope, workflow: 'pipeline', input: null });
    expect((await handle.result()).output).toEqual({ summary: 'A SHORT SUMMARY' });

    const same = await replayJob(kernel, { jobId: handle.jobId, scopeId: scope.scopeId, workflow: pipeline(counts) });
    expect(same).toMatchObject({ sameOutput: true, replayedSteps: 3 });
    expect(counts).toEqual({ fetch: 1, summarize: 1 });

    const changed = replayJob(kernel, { jobId: handle.jobId, scopeId: scope.scopeId, workflow: pipeline(counts, 'changed') });
    await expect(changed).rejects.toBeInstanceOf(ReplayDivergenceError);
    await expect(changed).rejects.toMatchObject({ stepId: '1', recorded: "model 'scripted-1'", requested: "custom 'translate'", message: expect.stringContaining('diverged from its journal at step 1') });

    const longer = replayJob(kernel, { jobId: handle.jobId, scopeId: scope.scopeId, workflow: pipeline(counts, 'longer') });
    await expect(longer).rejects.toMatchObject({ code: 'replay_divergence', stepId: '3', requested: "custom 'publish'", recorded: expect.stringContaining('no step at this position') });
    expect(counts).toEqual({ fetch: 1, summarize: 1 });
  });

  it('ReplayProvider answers an agent from the recorded model calls, and refuses a different conversation', async () => {
    const { recording, jobId } = await recordAgentRun();
    const again = new ReplayProvider({ recording, jobId });
    const result = await weatherAgent(again, []).run('Weather in Paris?');
    expect(result.text).toBe('It is sunny in Paris.');
    expect(again.remaining).toBe(0);
    const other = new ReplayProvider({ recording, jobId });
    await expect(weatherAgent(other, []).run('Weather in Rome?')).rejects.toMatchObject({ code: 'replay_divergence', stepId: '0.0', requested: expect.stringContaining('Weather in Rome?') });
  });
});
