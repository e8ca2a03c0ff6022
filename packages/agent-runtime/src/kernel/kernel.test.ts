import { Agent, ExecutionEngine, ScriptedProvider, defineTool, type ModelRequest, type ScriptStep } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InMemoryActionStore } from '../actions/in-memory-action-store.js';
import { InMemorySignalChannel } from '../actions/in-memory-signal-channel.js';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import { InMemoryJobStore } from '../jobs/in-memory-job-store.js';
import { InMemoryJournalStore } from '../journal/in-memory-journal-store.js';
import { PolicyEngine } from '../policy/policy-engine.js';
import type { JobContext } from './job-context.js';
import { RuntimeKernel, type RuntimeStores } from './runtime-kernel.js';

const scope = { scopeId: 'tenant-a', principalId: 'alice' };

function stores(): RuntimeStores {
  return {
    jobs: new InMemoryJobStore(),
    journal: new InMemoryJournalStore(),
    events: new InMemoryEventBus(),
    actions: new InMemoryActionStore(),
    signals: new InMemorySignalChannel(),
  };
}

/** A model that asks for `deploy` once, then answers with what the tool said. */
function deployingModel(): ScriptedProvider {
  return new ScriptedProvider({
    script: (request: ModelRequest): ScriptStep => {
      const last = request.messages[request.messages.length - 1];
      if (last?.role === 'tool') return `Deployed: ${last.content}`;
      return { text: 'Deploying now.', toolCalls: [{ name: 'deploy', arguments: { version: '1.2.3' } }] };
    },
  });
}

function deployTool(sideEffects: string[]) {
  return defineTool({
    name: 'deploy',
    description: 'Deploys a release',
    parameters: z.object({ version: z.string() }),
    execute: ({ version }, { idempotencyKey }) => {
      sideEffects.push(`${version}@${idempotencyKey}`);
      return { ok: true, version };
    },
  });
}

function approvalPolicy(): PolicyEngine {
  return new PolicyEngine({ defaultSet: 'default', sets: [{ name: 'default', tools: [{ name: 'deploy-needs-approval', tools: ['deploy'], requireApproval: true }] }] });
}

function kernelOn(s: RuntimeStores, sideEffects: string[], tokens: string[]): RuntimeKernel {
  const engine = new ExecutionEngine({ provider: deployingModel() });
  const agent = new Agent({ engine, tools: [deployTool(sideEffects)], instructions: 'You deploy releases.' });
  return RuntimeKernel.create({ engine, agent, stores: s, policy: approvalPolicy(), onActionRequired: ({ resumeToken }) => tokens.push(resumeToken) });
}

describe('RuntimeKernel: pause, cross-kernel resume', () => {
  it('pauses on an approval, resumes on a fresh kernel over the same stores, runs the tool exactly once', async () => {
    const s = stores();
    const effects: string[] = [];
    const tokens: string[] = [];
    const hostA = kernelOn(s, effects, tokens);
    const handle = await hostA.execute({ ...scope, input: 'Deploy 1.2.3' });
    const paused = await handle.settled();
    expect(paused.status).toBe('waiting_for_action');
    expect(effects).toEqual([]);
    expect(tokens).toHaveLength(1);
    await hostA.close();

    const hostB = kernelOn(s, effects, []);
    const { action, handle: resumed } = await hostB.resume(tokens[0]!, { approved: true }, { scopeId: 'tenant-a', principalId: 'bob' });
    expect(action.status).toBe('resolved');
    const result = await resumed!.result();
    expect(result.output).toMatchObject({ text: 'Deployed: {"ok":true,"version":"1.2.3"}' });
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatch(new RegExp(`^1\\.2\\.3@${handle.jobId}:0\\.1$`));

    const job = (await hostB.getJob(handle.jobId, 'tenant-a'))!;
    expect(job.stateHistory.map((h) => h.status)).toEqual(['queued', 'running', 'waiting_for_action', 'running', 'completed']);
    const kinds = (await s.journal.list({ jobId: handle.jobId, scopeId: 'tenant-a' })).map((e) => `${e.stepId}:${e.kind}`);
    expect(kinds).toEqual(['0.0:model', '0.1.approval:action', '0.1:tool', '0.2:model']);
  });

  it('a rejected approval sends the refusal to the model and never runs the tool', async () => {
    const s = stores();
    const effects: string[] = [];
    const tokens: string[] = [];
    const kernel = kernelOn(s, effects, tokens);
    const handle = await kernel.execute({ ...scope, input: 'Deploy 1.2.3' });
    await handle.settled();
    const { handle: resumed } = await kernel.resume(tokens[0]!, { approved: false, comment: 'not today' }, { scopeId: 'tenant-a', principalId: 'bob' });
    const result = await resumed!.result();
    expect(String((result.output as { text: string }).text)).toContain('not allowed: rejected by bob: not today');
    expect(effects).toEqual([]);
  });

  it('rejects forged, reused and other-scope tokens and malformed resolutions, changing nothing', async () => {
    const s = stores();
    const tokens: string[] = [];
    const kernel = kernelOn(s, [], tokens);
    const handle = await kernel.execute({ ...scope, input: 'Deploy' });
    await handle.settled();
    const token = tokens[0]!;
    await expect(kernel.resume('A'.repeat(43), { approved: true }, { scopeId: 'tenant-a', principalId: 'bob' })).rejects.toMatchObject({ code: 'invalid_resume_token' });
    await expect(kernel.resume(token, { approved: true }, { scopeId: 'tenant-b', principalId: 'bob' })).rejects.toMatchObject({ code: 'invalid_resume_token' });
    await expect(kernel.resume(token, { approved: 'yes' }, { scopeId: 'tenant-a', principalId: 'bob' })).rejects.toMatchObject({ code: 'invalid_resolution' });
    expect((await kernel.getJob(handle.jobId, 'tenant-a'))!.status).toBe('waiting_for_action');
    const { handle: resumed } = await kernel.resume(token, { approved: true }, { scopeId: 'tenant-a', principalId: 'bob' });
    await resumed!.result();
    await expect(kernel.resume(token, { approved: true }, { scopeId: 'tenant-a', principalId: 'bob' })).rejects.toMatchObject({ code: expect.stringMatching(/already_resolved|invalid_resume_token/) });
  });
});

describe('RuntimeKernel: workflows', () => {
  it('journals steps, replays them after a failure, and keeps shared data', async () => {
    let calls = 0;
    let failOnce = true;
    const kernel = RuntimeKernel.create({
      retry: { maxAttempts: 2, initialDelayMs: 1 },
      _internal: { sleep: async () => {}, random: () => 0 },
      workflows: {
        pipeline: async (ctx) => {
          const a = await ctx.step('fetch', () => {
            calls++;
            return { value: 41 };
          });
          const b = await ctx.step('flaky', () => {
            if (failOnce) {
              failOnce = false;
              throw Object.assign(new Error('transient'), {});
            }
            return a.value + 1;
          });
          await ctx.setShared({ answer: b });
          return { answer: b };
        },
      },
    });
    const handle = await kernel.execute({ ...scope, workflow: 'pipeline', input: null });
    // The first failure is not a retryable BatonError, so the job fails with its journal intact.
    await expect(handle.result()).rejects.toMatchObject({ code: 'job_failed' });
    expect(calls).toBe(1);
    const again = await kernel.execute({ ...scope, workflow: 'pipeline', input: null });
    await expect(again.result()).resolves.toMatchObject({ output: { answer: 42 } });
  });

  it('rejects bad requests with a typed error naming the field, creating nothing', async () => {
    const kernel = RuntimeKernel.create({ workflows: { w: () => 1 } });
    await expect(kernel.execute({ ...scope, scopeId: '', workflow: 'w', input: 1 })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'request.scopeId' });
    await expect(kernel.execute({ ...scope, workflow: 'nope', input: 1 })).rejects.toMatchObject({ code: 'unknown_workflow' });
    expect((await kernel.listJobs({ scopeId: 'tenant-a' })).jobs).toHaveLength(0);
  });
});

describe('RuntimeKernel: sessions and interruption', () => {
  function streamingKernel(s: RuntimeStores) {
    const provider = new ScriptedProvider({
      tokenDelayMs: 2,
      script: (request) => {
        const first = request.messages.find((m) => m.role === 'user')?.content ?? '';
        if (request.messages.some((m) => m.content.includes('[interrupted'))) return 'Picking up where I left off.';
        return `A long answer about ${first} that streams slowly token by token so it can be interrupted midway through`;
      },
    });
    const engine = new ExecutionEngine({ provider });
    const agent = new Agent({ engine, instructions: 'Answer.' });
    return RuntimeKernel.create({ engine, agent, stores: s, sessionStrategy: 'interrupt' });
  }

  it('interrupts a streaming job and hands its partial text to the next job', async () => {
    const s = stores();
    const kernel = streamingKernel(s);
    const first = await kernel.execute({ ...scope, sessionId: 'chat-1', input: 'tides' });
    // Wait for some streamed text.
    for await (const e of first.events()) if (e.type === 'model.delta' && e.seq > 8) break;
    const second = await kernel.execute({ ...scope, sessionId: 'chat-1', input: 'actually, tell me about waves' });
    await expect(first.result()).rejects.toMatchObject({ code: 'job_interrupted' });
    const firstJob = (await kernel.getJob(first.jobId, 'tenant-a'))!;
    expect(firstJob.status).toBe('interrupted');
    const prev = second.job.metadata['previousContext'] as { partialText: string; jobId: string };
    expect(prev.jobId).toBe(first.jobId);
    expect(prev.partialText.length).toBeGreaterThan(0);
    expect('A long answer about tides that streams slowly').toContain(prev.partialText.slice(0, 20));
    const result = await second.result();
    expect(result.output).toMatchObject({ text: 'Picking up where I left off.' });
    const contexts = await kernel.interruptedContexts({ scopeId: 'tenant-a', sessionId: 'chat-1' });
    expect(contexts.map((c) => c.jobId)).toEqual([first.jobId]);
  });

  it('rejects a second message to a busy session under `reject`, and queues it under `enqueue`', async () => {
    const s = stores();
    const kernel = streamingKernel(s);
    const first = await kernel.execute({ ...scope, sessionId: 'chat-2', input: 'one' });
    await expect(kernel.execute({ ...scope, sessionId: 'chat-2', input: 'two', strategy: 'reject' })).rejects.toMatchObject({ code: 'session_busy' });
    const queued = await kernel.execute({ ...scope, sessionId: 'chat-2', input: 'three', strategy: 'enqueue' });
    expect(queued.job.status).toBe('queued');
    await first.result();
    await expect(queued.result()).resolves.toMatchObject({ output: { text: expect.stringContaining('three') } });
  });

  it('cancel() makes result() reject at once even when the model ignores the abort', async () => {
    const provider = new ScriptedProvider({ script: [{ text: 'slow', delayMs: 5_000 }], ignoreAbort: true });
    const engine = new ExecutionEngine({ provider });
    const kernel = RuntimeKernel.create({ engine, workflows: { slow: async (ctx) => ctx.callModel({ messages: [{ role: 'user', content: 'hi' }] }) } });
    const handle = await kernel.execute({ ...scope, workflow: 'slow', input: null });
    const result = handle.result();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    void handle.cancel('user pressed stop');
    await expect(result).rejects.toMatchObject({ code: 'job_cancelled' });
    expect(performance.now() - t0).toBeLessThan(50);
  });

  /** A job whose code waits on `gate` without looking at its signal, then does `after`. */
  function gatedKernel(s: RuntimeStores, after: (ctx: JobContext) => Promise<unknown>) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const kernel = RuntimeKernel.create({
      stores: s,
      workflows: {
        gated: async (ctx) => {
          await ctx.step('before', () => 'ok');
          await gate;
          return (await after(ctx)) as never;
        },
      },
    });
    return { kernel, release };
  }

  it('a cancelled job whose code finishes afterwards ends cancelled, not completed; cancel() resolves with that record', async () => {
    const s = stores();
    const { kernel, release } = gatedKernel(s, async () => 'finished anyway');
    const handle = await kernel.execute({ ...scope, workflow: 'gated', input: null });
    const result = handle.result();
    await new Promise((r) => setTimeout(r, 5));
    const cancelling = handle.cancel('user pressed stop');
    // The job's code goes on at once, before the cancellation is recorded.
    release();
    await expect(result).rejects.toMatchObject({ code: 'job_cancelled', message: expect.stringContaining('user pressed stop') });
    const record = await cancelling;
    expect(record?.status).toBe('cancelled');
    expect((await handle.status())?.status).toBe('cancelled');
    const types = (await s.events.replay({ jobId: handle.jobId, scopeId: scope.scopeId })).map((e) => e.type);
    expect(types).toContain('job.cancelled');
    expect(types).not.toContain('job.completed');
    // Later callers read the outcome from the record, with its reason.
    await expect(handle.result()).rejects.toMatchObject({ code: 'job_cancelled', message: expect.stringContaining('user pressed stop') });
    await expect(kernel.handle(handle.jobId, scope.scopeId).then((h) => h!.result())).rejects.toMatchObject({ code: 'job_cancelled' });
  });

  it('a cancelled job that asks for an action afterwards does not pause: no action is created', async () => {
    const s = stores();
    const { kernel, release } = gatedKernel(s, (ctx) => ctx.waitForAction({ type: 'approval', title: 'Ship it?' }));
    const handle = await kernel.execute({ ...scope, workflow: 'gated', input: null });
    const result = handle.result().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 5));
    const cancelling = handle.cancel();
    release();
    expect(await result).toMatchObject({ code: 'job_cancelled' });
    expect((await cancelling)?.status).toBe('cancelled');
    expect(await s.actions.listByJob({ jobId: handle.jobId, scopeId: scope.scopeId })).toEqual([]);
    const types = (await s.events.replay({ jobId: handle.jobId, scopeId: scope.scopeId })).map((e) => e.type);
    expect(types).not.toContain('job.waiting');
    expect(types).not.toContain('action.required');
  });

  it('settled() of a cancelled job resolves with the recorded cancellation', async () => {
    const s = stores();
    const { kernel, release } = gatedKernel(s, async () => 'late');
    const handle = await kernel.execute({ ...scope, workflow: 'gated', input: null });
    const settled = handle.settled();
    await new Promise((r) => setTimeout(r, 5));
    const cancelling = handle.cancel();
    release();
    expect((await settled).status).toBe('cancelled');
    await cancelling;
  });
});

describe('RuntimeKernel: stops sent by another host', () => {
  it('a job running here without workers stops when another host cancels it', async () => {
    const s = stores();
    const effects: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let entered!: () => void;
    const started = new Promise<void>((r) => (entered = r));
    const wf = async (ctx: JobContext) => {
      await ctx.step('first', async () => {
        entered();
        await gate;
        return 1;
      });
      await ctx.step('second', () => void effects.push('second'));
      return 'done';
    };
    const here = RuntimeKernel.create({ stores: s, workflows: { wf }, hostId: 'here' });
    const other = RuntimeKernel.create({ stores: s, workflows: { wf }, hostId: 'other' });
    const handle = await here.execute({ ...scope, workflow: 'wf', input: null });
    await started;
    expect((await other.cancel(handle.jobId, scope.scopeId, 'from the other host'))?.status).toBe('cancelled');
    await expect(handle.result()).rejects.toMatchObject({ code: 'job_cancelled' });
    open();
    await new Promise((r) => setTimeout(r, 20));
    expect(effects).toEqual([]);
    expect((await here.getJob(handle.jobId, scope.scopeId))?.status).toBe('cancelled');
    await here.close();
    await other.close();
  });
});

describe('RuntimeKernel: parent jobs', () => {
  it('records a parent given with the request, lists the children by it, and refuses one that is not in the scope', async () => {
    const s = stores();
    const kernel = RuntimeKernel.create({ stores: s, workflows: { w: async () => 'ok' } });
    const parent = await kernel.execute({ ...scope, workflow: 'w', input: null });
    await parent.result();
    const children = await Promise.all([1, 2].map((i) => kernel.execute({ ...scope, workflow: 'w', input: i, parentJobId: parent.jobId })));
    await Promise.all(children.map((c) => c.result()));
    expect(children.map((c) => c.job.parentJobId)).toEqual([parent.jobId, parent.jobId]);
    const page = await kernel.listJobs({ scopeId: scope.scopeId, parentJobId: parent.jobId });
    expect(page.jobs.map((j) => j.id).sort()).toEqual(children.map((c) => c.jobId).sort());
    const created = (await s.events.replay({ jobId: children[0]!.jobId, scopeId: scope.scopeId })).find((e) => e.type === 'job.created');
    expect(created?.data).toMatchObject({ parentJobId: parent.jobId });
    const before = (await kernel.listJobs({ scopeId: scope.scopeId })).jobs.length;
    await expect(kernel.execute({ ...scope, workflow: 'w', input: null, parentJobId: 'job_missing' })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'request.parentJobId' });
    await expect(kernel.execute({ scopeId: 'tenant-b', principalId: 'bob', workflow: 'w', input: null, parentJobId: parent.jobId })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect((await kernel.listJobs({ scopeId: scope.scopeId })).jobs.length).toBe(before);
  });
});

describe('RuntimeKernel: scope budgets', () => {
  it('two concurrent jobs of one scope against a budget that fits only one: exactly one runs', async () => {
    const { Ledger } = await import('../ledger/ledger.js');
    const { InMemoryLedgerWriter } = await import('../ledger/in-memory-ledger-writer.js');
    const ledger = new Ledger({ writer: new InMemoryLedgerWriter(), budgets: [{ scopeId: 'tenant-a', dailyTokens: 1500 }] });
    const provider = new ScriptedProvider({ loop: true, script: [{ text: 'done', delayMs: 20 }] });
    const engine = new ExecutionEngine({ provider });
    const kernel = RuntimeKernel.create({
      engine,
      ledger,
      workflows: { one: async (ctx) => (await ctx.callModel({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 1000 })).text },
    });
    const [a, b] = await Promise.all([kernel.execute({ ...scope, workflow: 'one', input: 1 }), kernel.execute({ ...scope, workflow: 'one', input: 2 })]);
    const outcomes = await Promise.allSettled([a.result(), b.result()]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'job_failed', errorCode: 'scope_budget_exceeded' });
    expect(provider.calls).toHaveLength(1);
    const usage = await ledger.usage({ scopeId: 'tenant-a' });
    expect(usage.usedTokens).toBeGreaterThan(0);
    expect(usage.reservedTokens).toBe(0);
  });
});

describe('RuntimeKernel: action expiry', () => {
  function expiringKernel(onTimeout: 'fail' | 'default' | 'escalate', clock: { now: number }, tokens: string[]) {
    return RuntimeKernel.create({
      _internal: { now: () => clock.now },
      onActionRequired: (a) => tokens.push(a.resumeToken),
      workflows: {
        ship: async (ctx) => {
          const outcome = await ctx.waitForAction({
            type: 'approval',
            title: 'Ship?',
            timeoutSeconds: 60,
            onTimeout,
            ...(onTimeout === 'default' ? { defaultResolution: { approved: false, comment: 'nobody answered' } } : {}),
            ...(onTimeout === 'escalate' ? { approvers: ['alice'], escalateTo: { approvers: ['carol'], timeoutSeconds: 60 } } : {}),
          });
          return { status: outcome.status, resolution: outcome.resolution };
        },
      },
    });
  }

  it('onTimeout fail: the sweep expires the action and the job fails with action_expired', async () => {
    const clock = { now: 1_000_000 };
    const kernel = expiringKernel('fail', clock, []);
    const h = await kernel.execute({ ...scope, workflow: 'ship', input: null });
    await h.settled();
    clock.now += 61_000;
    expect(await kernel.sweepExpiredActions()).toBe(1);
    await expect(h.result()).rejects.toMatchObject({ code: 'job_failed', errorCode: 'action_expired' });
  });

  it('onTimeout default: the job continues with the default resolution', async () => {
    const clock = { now: 1_000_000 };
    const kernel = expiringKernel('default', clock, []);
    const h = await kernel.execute({ ...scope, workflow: 'ship', input: null });
    await h.settled();
    clock.now += 61_000;
    await kernel.sweepExpiredActions();
    await expect(h.result()).resolves.toMatchObject({ output: { status: 'rejected', resolution: { approved: false, comment: 'nobody answered' } } });
  });

  it('onTimeout escalate: a new approver gets a token, the job keeps waiting and resumes on their answer', async () => {
    const clock = { now: 1_000_000 };
    const tokens: string[] = [];
    const kernel = expiringKernel('escalate', clock, tokens);
    const h = await kernel.execute({ ...scope, workflow: 'ship', input: null });
    await h.settled();
    clock.now += 61_000;
    await kernel.sweepExpiredActions();
    expect(tokens).toHaveLength(2);
    expect((await kernel.getJob(h.jobId, 'tenant-a'))!.status).toBe('waiting_for_action');
    await expect(kernel.resume(tokens[0]!, { approved: true }, { scopeId: 'tenant-a', principalId: 'alice' })).rejects.toMatchObject({ code: expect.stringMatching(/expired|escalat/) });
    const { handle } = await kernel.resume(tokens[1]!, { approved: true }, { scopeId: 'tenant-a', principalId: 'carol' });
    await expect(handle!.result()).resolves.toMatchObject({ output: { status: 'resolved', resolution: { approved: true } } });
  });
});

describe('RuntimeKernel: shared data, shared log and deferred events', () => {
  it('keeps shared data and log with the journal, and publishes deferred events when the job resumes', async () => {
    const s = stores();
    let token = '';
    const workflow = async (ctx: import('./job-context.js').JobContext) => {
      await ctx.step('prepare', async () => {
        await ctx.setShared({ stage: 'prepared' });
        await ctx.log({ note: 'prepared' });
        return null;
      });
      await ctx.step('announce', async () => {
        await ctx.emitOnResume('checkpoint.saved', { seq: 0, key: 'resumed-after-approval' });
        return null;
      });
      await ctx.waitForAction({ type: 'approval', title: 'Continue?' });
      await ctx.setShared({ stage: 'approved' });
      return ctx.getShared();
    };
    const a = RuntimeKernel.create({ stores: s, workflows: { w: workflow }, onActionRequired: (x) => (token = x.resumeToken) });
    const handle = await a.execute({ ...scope, workflow: 'w', input: null });
    await handle.settled();
    const before = await s.events.replay({ jobId: handle.jobId, scopeId: 'tenant-a' });
    expect(before.some((e) => e.type === 'checkpoint.saved')).toBe(false);

    const b = RuntimeKernel.create({ stores: s, workflows: { w: workflow } });
    const { handle: resumed } = await b.resume(token, { approved: true }, { scopeId: 'tenant-a', principalId: 'bob' });
    await expect(resumed!.result()).resolves.toMatchObject({ output: { stage: 'approved' } });
    const events = await s.events.replay({ jobId: handle.jobId, scopeId: 'tenant-a' });
    const resumedAt = events.findIndex((e) => e.type === 'job.resumed');
    const deferredAt = events.findIndex((e) => e.type === 'checkpoint.saved');
    expect(deferredAt).toBeGreaterThan(resumedAt);
    expect(events.filter((e) => e.type === 'checkpoint.saved')).toHaveLength(1);
    const log = await s.journal.listSharedLog({ jobId: handle.jobId, scopeId: 'tenant-a' });
    expect(log.map((r) => r.value)).toEqual([{ note: 'prepared' }]);
  });

  it('an emitOnResume outside a step is stored once, however many times the job resumes past it', async () => {
    const s = stores();
    const tokens: string[] = [];
    const workflow = async (ctx: import('./job-context.js').JobContext) => {
      await ctx.emitOnResume('checkpoint.saved', { seq: 0, key: 'first-approval' });
      await ctx.waitForAction({ type: 'approval', title: 'One?' });
      await ctx.waitForAction({ type: 'approval', title: 'Two?' });
      return 'done';
    };
    const kernel = RuntimeKernel.create({ stores: s, workflows: { w: workflow }, onActionRequired: (x) => tokens.push(x.resumeToken) });
    const handle = await kernel.execute({ ...scope, workflow: 'w', input: null });
    await handle.settled();
    await (await kernel.resume(tokens[0]!, { approved: true }, { scopeId: 'tenant-a', principalId: 'bob' })).handle!.settled();
    await (await kernel.resume(tokens[1]!, { approved: true }, { scopeId: 'tenant-a', principalId: 'bob' })).handle!.result();
    const events = await s.events.replay({ jobId: handle.jobId, scopeId: 'tenant-a' });
    expect(events.filter((e) => e.type === 'checkpoint.saved')).toHaveLength(1);
    expect((await s.journal.load({ jobId: handle.jobId, scopeId: 'tenant-a' })).hasDeferredEvents).toBe(false);
  });

  it('an answer given as soon as the token is handed out resumes the job', async () => {
    const s = stores();
    const workflow = async (ctx: import('./job-context.js').JobContext) => {
      const outcome = await ctx.waitForAction({ type: 'approval', title: 'Auto?' });
      return outcome.status;
    };
    const errors: unknown[] = [];
    const kernel: RuntimeKernel = RuntimeKernel.create({
      stores: s,
      workflows: { w: workflow },
      onActionRequired: (x) => {
        // A relay that answers at once: the token works once the pause is stored, a moment later.
        const answer = (tries: number): void =>
          void kernel.resume(x.resumeToken, { approved: true }, { scopeId: 'tenant-a', principalId: 'bot' }).catch((error: unknown) => {
            if (tries > 0 && (error as { code?: string }).code === 'invalid_resume_token') setTimeout(() => answer(tries - 1), 1);
            else errors.push(error);
          });
        answer(20);
      },
    });
    const handle = await kernel.execute({ ...scope, workflow: 'w', input: null });
    await expect(handle.result()).resolves.toMatchObject({ output: 'resolved' });
    expect(errors).toEqual([]);
  });

  it('result() of a job waiting for a person waits quietly (no re-reading loop) and resolves when it ends', async () => {
    const s = stores();
    let token = '';
    const workflow = async (ctx: import('./job-context.js').JobContext) => (await ctx.waitForAction({ type: 'approval', title: 'Later?' })).status;
    const kernel = RuntimeKernel.create({ stores: s, workflows: { w: workflow }, onActionRequired: (x) => (token = x.resumeToken) });
    const handle = await kernel.execute({ ...scope, workflow: 'w', input: null });
    await handle.settled();
    const get = s.jobs.get.bind(s.jobs);
    let reads = 0;
    s.jobs.get = (ref) => {
      reads++;
      return get(ref);
    };
    let done = false;
    const result = handle.result().then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false);
    expect(reads).toBeLessThan(5);
    await kernel.resume(token, { approved: true }, { scopeId: 'tenant-a', principalId: 'bob' });
    await expect(result).resolves.toMatchObject({ output: 'resolved' });
  });
});
