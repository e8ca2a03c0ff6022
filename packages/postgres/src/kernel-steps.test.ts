import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutionEngine, ScriptedProvider } from '@baton/llm-client';
import { InMemoryJournalStore, RuntimeKernel, signalChannelName, type RuntimeEvent, type Workflow } from '@baton/agent-runtime';
import { createPostgresStores, type BatonStores } from './create-stores.js';
import { PgliteSqlClient } from './sql/pglite-client.js';
import { CountingSqlClient } from './test-helpers/one-statement-suite.js';
import { StoreUnavailableError } from './errors/store-unavailable-error.js';

// The kernel on stores that share transactions with their bus (embedded PGlite): each step is
// one statement carrying its events, the job's events stay gapless and in order, and a long
// step's events are still published while it runs.
describe('kernel steps on PGlite: one statement per step', () => {
  let pglite: PgliteSqlClient;
  let client: CountingSqlClient;
  let stores: BatonStores;
  const scope = { scopeId: 'acme', principalId: 'ops' };

  beforeAll(async () => {
    pglite = await PgliteSqlClient.open({ dataDir: 'memory://' });
    client = new CountingSqlClient(pglite);
    stores = await createPostgresStores({ client, schema: 'kernel_steps' });
  });
  afterAll(async () => {
    await stores?.close();
    await pglite?.close();
  });

  const fiveCalls: Workflow = async (ctx) => {
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push((await ctx.callModel({ messages: [{ role: 'user', content: `q${i}` }] })).text);
    return answers;
  };

  it('a 5-step job is 6 statements (created started, 4 steps with their events, the last step with the completion) and its events are gapless and in order', async () => {
    const engine = new ExecutionEngine({ provider: new ScriptedProvider({ loop: true, script: ['fine'] }) });
    const kernel = RuntimeKernel.create({ engine, stores, workflows: { fiveCalls } });
    let jobId = '';
    const statements = await client.during(async () => {
      const handle = await kernel.execute({ ...scope, workflow: 'fiveCalls', input: null });
      jobId = handle.jobId;
      expect((await handle.result()).output).toEqual(['fine', 'fine', 'fine', 'fine', 'fine']);
    });
    expect(statements).toHaveLength(6);
    // The last step returned straight to the job's end: its entry is stored by the completion's statement.
    expect(statements[5]).toContain('journal_entries');
    expect(statements[5]).toContain('"jobs"');
    const events = await stores.events.replay({ jobId, scopeId: scope.scopeId });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual([
      'job.created',
      'job.started',
      ...Array.from({ length: 5 }, () => ['model.started', 'model.completed', 'step.completed']).flat(),
      'job.completed',
    ]);
    // step.completed names the journal entry written by the same statement.
    const journal = await stores.journal.list({ jobId, scopeId: scope.scopeId });
    expect(events.filter((e) => e.type === 'step.completed').map((e) => (e.data as { seq: number }).seq)).toEqual(journal.map((e) => e.seq));
    await kernel.close();
  });

  it("a worker starting a queued job that never ran reads no journal and acks with the completion; one handed back after a step replays it", async () => {
    const engine = new ExecutionEngine({ provider: new ScriptedProvider({ loop: true, script: ['fine'] }) });
    const kernel = RuntimeKernel.create({ engine, stores, queue: stores.queue, workflows: { fiveCalls }, hostId: 'w' });
    await kernel.startWorker({ concurrency: 1, pollMs: 20 });
    let jobId = '';
    const statements = await client.during(async () => {
      const handle = await kernel.execute({ ...scope, workflow: 'fiveCalls', input: null });
      jobId = handle.jobId;
      expect((await handle.result()).output).toEqual(['fine', 'fine', 'fine', 'fine', 'fine']);
    });
    expect(statements.filter((text) => text.includes('journal_entries') && text.trimStart().startsWith('SELECT'))).toEqual([]);
    // The completion acks the worker's lease in its own statement: no ack of its own.
    expect(statements.filter((text) => text.trimStart().startsWith('UPDATE') && text.includes('"queue"') && text.includes("'done'"))).toEqual([]);
    expect(statements.filter((text) => text.includes('ak AS (') && text.includes('"jobs"'))).toHaveLength(1);
    expect(await stores.queue.get({ ...scope, jobId })).toBeUndefined();
    expect((await stores.jobs.get({ ...scope, jobId }))?.attempts).toBe(1);
    await kernel.close();

    // A job that ran a step and went back to the queue (attempts 1) is read and replayed: the step is not run again.
    let calls = 0;
    let runs = 0;
    const once: Workflow = async (ctx) => {
      const run = ++runs;
      const first = await ctx.step('side-effect', () => ++calls);
      // The first run is stopped here (its host shuts down) and hands the job back.
      if (run === 1) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
      return first;
    };
    const first = RuntimeKernel.create({ engine, stores, queue: stores.queue, workflows: { once }, hostId: 'first' });
    await first.startWorker({ concurrency: 1, pollMs: 20 });
    const handle = await first.execute({ ...scope, workflow: 'once', input: null });
    await expect.poll(async () => (await stores.journal.list({ ...scope, jobId: handle.jobId })).length).toBe(1);
    await first.close({ deadlineMs: 0 });
    expect((await stores.jobs.get({ ...scope, jobId: handle.jobId }))).toMatchObject({ status: 'queued', attempts: 1 });
    const second = RuntimeKernel.create({ engine, stores, queue: stores.queue, workflows: { once }, hostId: 'second' });
    await second.startWorker({ concurrency: 1, pollMs: 20 });
    expect((await (await second.handle(handle.jobId, scope.scopeId))!.result()).output).toBe(1);
    expect([calls, runs]).toEqual([1, 2]);
    await second.close();
  });

  it('a streaming step publishes its deltas while the model still streams, before the step is journaled', async () => {
    const engine = new ExecutionEngine({ provider: new ScriptedProvider({ script: ['one two three four five six'], tokenDelayMs: 15 }) });
    const streamed: Workflow = async (ctx) => (await ctx.callModel({ messages: [{ role: 'user', content: 'go' }] }, { stream: true })).text;
    const kernel = RuntimeKernel.create({ engine, stores, workflows: { streamed } });
    const handle = await kernel.execute({ ...scope, workflow: 'streamed', input: null });
    const live: Array<{ event: RuntimeEvent; journaled: number }> = [];
    const seen = new Promise<void>((resolve) => {
      const stop = stores.events.subscribe(
        (event) => {
          void stores.journal.head({ jobId: handle.jobId, scopeId: scope.scopeId }).then((head) => {
            live.push({ event, journaled: head.nextSeq });
            if (event.type === 'job.completed') {
              stop();
              resolve();
            }
          });
        },
        { jobId: handle.jobId, scopeId: scope.scopeId },
      );
    });
    expect((await handle.result()).output).toBe('one two three four five six');
    await seen;
    const deltas = live.filter((l) => l.event.type === 'model.delta');
    expect(deltas.length).toBeGreaterThan(0);
    // The first deltas arrive while the step is not journaled yet: they did not wait for the step's write.
    expect(deltas[0]!.journaled).toBe(0);
    const replayed = await stores.events.replay({ jobId: handle.jobId, scopeId: scope.scopeId });
    expect(replayed.map((e) => e.seq)).toEqual(replayed.map((_, i) => i + 1));
    expect(replayed.filter((e) => e.type === 'model.delta').map((e) => (e.data as { textDelta: string }).textDelta).join('')).toBe('one two three four five six');
    await kernel.close();
  });

  it('a pause is one write: the step before it, the request, the job waiting for it and their events', async () => {
    const approve: Workflow = async (ctx) => {
      await ctx.step('plan', () => 'plan');
      const outcome = await ctx.waitForAction({ type: 'approval', title: 'Ship?' });
      return ctx.step('ship', () => outcome.status);
    };
    let token = '';
    const kernel = RuntimeKernel.create({
      stores,
      workflows: { approve },
      onActionRequired: (info) => {
        token = info.resumeToken;
      },
    });
    let jobId = '';
    const statements = await client.during(async () => {
      const handle = await kernel.execute({ ...scope, workflow: 'approve', input: null });
      jobId = handle.jobId;
      expect((await handle.settled()).status).toBe('waiting_for_action');
    });
    // Created started; the plan step with the pause (the job waiting, its request, their events).
    expect(statements).toHaveLength(2);
    expect(statements[1]).toContain('journal_entries');
    expect(statements[1]).toContain('"actions"');
    const actions = await stores.actions.listByJob({ jobId, scopeId: scope.scopeId });
    expect(actions).toHaveLength(1);
    const types = (await stores.events.replay({ jobId, scopeId: scope.scopeId })).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['action.required', 'job.waiting']);
    const resumed = await client.during(async () => {
      const { handle } = await kernel.resume(token, { approved: true }, { scopeId: scope.scopeId, principalId: 'boss' });
      expect((await handle!.result()).output).toBe('resolved');
    });
    // The action read by its token with its job, the job's journal and its actions (one
    // statement); the answer written with the job's resume, action.resolved and the waiters'
    // wake-up signal (one statement); the answered wait, the last step and the completion.
    expect(resumed).toHaveLength(3);
    expect(resumed.filter((text) => text.startsWith('SELECT pg_notify'))).toEqual([]);
    expect((await stores.events.replay({ jobId, scopeId: scope.scopeId })).map((e) => e.type).slice(-5)).toEqual(['action.resolved', 'job.resumed', 'step.started', 'step.completed', 'job.completed']);
    await kernel.close();
  });

  it("where workers run the jobs, a resume is two statements (the answer carries the job's return to the queue, its event and both wake-ups), and the worker's claim reads the job's journal and actions", async () => {
    let planned = 0;
    const approve: Workflow = async (ctx) => {
      await ctx.step('plan', () => ++planned);
      const outcome = await ctx.waitForAction({ type: 'approval', title: 'Ship?' });
      return outcome.status;
    };
    let token = '';
    const worker = RuntimeKernel.create({ stores, queue: stores.queue, workflows: { approve }, hostId: 'worker', onActionRequired: (info) => (token = info.resumeToken) });
    await worker.startWorker({ concurrency: 1, pollMs: 1000 });
    const front = RuntimeKernel.create({ stores, queue: stores.queue, workflows: { approve }, hostId: 'front' });
    const handle = await front.execute({ ...scope, workflow: 'approve', input: null });
    expect((await handle.settled()).status).toBe('waiting_for_action');
    const [action] = await stores.actions.listByJob({ jobId: handle.jobId, scopeId: scope.scopeId });
    // Whoever waits on the action itself (not the job) hears of the answer too.
    const heard: string[] = [];
    const stop = await stores.signals.subscribe(signalChannelName({ kind: 'action.resolved', scopeId: scope.scopeId, subjectId: action!.id }), (signal) => void heard.push(signal.kind));
    const during = await client.during(async () => {
      const { handle: resumed } = await front.resume(token, { approved: true }, { scopeId: scope.scopeId, principalId: 'boss' });
      expect(resumed?.jobId).toBe(handle.jobId);
    });
    // The worker, woken at once, may already be claiming it (its statements share the client).
    const statements = during.filter((text) => !text.startsWith('WITH sweep AS'));
    // The action read by its token with its job; the answer with the enqueue, action.resolved,
    // the workers' wake-up and the action's signal. No notification sent on its own.
    expect(statements).toHaveLength(2);
    expect(statements[1]).toContain('"queue"');
    expect(statements.filter((text) => text.startsWith('SELECT pg_notify'))).toEqual([]);
    const run = await client.during(async () => expect((await handle.result()).output).toBe('resolved'));
    // The worker read neither the journal nor the actions apart: its claim brought them; the step before the wait was not run again.
    const ran = [...during, ...run];
    expect(ran.filter((text) => text.startsWith('SELECT h.next_seq'))).toEqual([]);
    expect(ran.filter((text) => /^SELECT id, record::text AS record FROM \S+"actions" WHERE scope_id = \$1 AND job_id = \$2/.test(text))).toEqual([]);
    expect(planned).toBe(1);
    await expect.poll(() => heard).toEqual(['action.resolved']);
    await stop();
    await front.close();
    await worker.close();
  });

  it("a claim asked for reads brings a waiting job's journal and actions, as the stores read them; not for stores elsewhere", async () => {
    const approve: Workflow = async (ctx) => {
      await ctx.step('plan', () => 'plan');
      return (await ctx.waitForAction({ type: 'approval', title: 'Ship?' })).status;
    };
    const kernel = RuntimeKernel.create({ stores, workflows: { approve } });
    const handle = await kernel.execute({ ...scope, workflow: 'approve', input: null });
    expect((await handle.settled()).status).toBe('waiting_for_action');
    const ref = { jobId: handle.jobId, scopeId: scope.scopeId };
    const claimOnce = async (reads?: { journal: BatonStores['journal'] | InMemoryJournalStore; actions: BatonStores['actions'] }) => {
      await stores.queue.enqueue(ref);
      const { jobs } = await stores.queue.claim({ workerId: 'w', leaseMs: 10_000, reads });
      const claimed = jobs.find((j) => j.jobId === handle.jobId)!;
      await stores.queue.ack(claimed);
      return claimed;
    };
    const claimed = await claimOnce({ journal: stores.journal, actions: stores.actions });
    expect(claimed.job?.status).toBe('waiting_for_action');
    expect(claimed.reads?.journal()).toEqual(await stores.journal.load(ref));
    expect(claimed.reads?.actions()).toEqual(await stores.actions.listByJob(ref));
    expect(claimed.reads?.journal().entries.map((e) => e.stepId)).toEqual(['0']);
    expect((await claimOnce()).reads).toBeUndefined();
    expect((await claimOnce({ journal: new InMemoryJournalStore(), actions: stores.actions })).reads).toBeUndefined();
    await kernel.close();
  });

  it('a job whose journal was corrupted while it waited fails on resume with a typed error naming it, in place and on a worker; its step is not run again', async () => {
    let planned = 0;
    const approve: Workflow = async (ctx) => {
      await ctx.step('plan', () => ++planned);
      return (await ctx.waitForAction({ type: 'approval', title: 'Ship?' })).status;
    };
    for (const onWorker of [false, true]) {
      planned = 0;
      let token = '';
      const kernel = RuntimeKernel.create({ stores, queue: onWorker ? stores.queue : undefined, workflows: { approve }, hostId: 'h', onActionRequired: (info) => (token = info.resumeToken) });
      if (onWorker) await kernel.startWorker({ concurrency: 1, pollMs: 1000 });
      const handle = await kernel.execute({ ...scope, workflow: 'approve', input: null });
      expect((await handle.settled()).status).toBe('waiting_for_action');
      await pglite.query(`UPDATE kernel_steps.journal_entries SET record = '{"schemaVersion": 1, "kind": "nonsense"}'::jsonb WHERE job_id = $1`, [handle.jobId]);
      await kernel.resume(token, { approved: true }, { scopeId: scope.scopeId, principalId: 'boss' });
      await expect(handle.result()).rejects.toMatchObject({ code: 'job_failed', errorCode: 'corrupt_record' });
      const failed = await stores.jobs.get({ ...scope, jobId: handle.jobId });
      expect(failed).toMatchObject({ status: 'failed', error: { code: 'corrupt_record' } });
      expect(failed?.error?.message).toContain(handle.jobId);
      expect(planned).toBe(1);
      await kernel.close();
    }
  });

  it("a finished step is stored before the next one starts, and a moment later when the job's code awaits something else", async () => {
    const stored = (jobId: string) => stores.journal.list({ jobId, scopeId: scope.scopeId }).then((entries) => entries.map((e) => e.stepId));
    const seen: Array<Array<string | undefined>> = [];
    const steps: Workflow = async (ctx) => {
      await ctx.step('a', () => 'a');
      await new Promise((resolve) => setTimeout(resolve, 20)); // not a step: the job's code waits on something else
      seen.push(await stored(ctx.jobId));
      await ctx.step('b', () => 'b');
      await ctx.step('c', async () => void seen.push(await stored(ctx.jobId)));
      await ctx.setShared({ after: 'c' }); // shared data is written after the steps before it
      seen.push(await stored(ctx.jobId));
      return ctx.step('d', () => 'done');
    };
    const kernel = RuntimeKernel.create({ stores, workflows: { steps } });
    const handle = await kernel.execute({ ...scope, workflow: 'steps', input: null });
    expect((await handle.result()).output).toBe('done');
    expect(seen).toEqual([['0'], ['0', '1'], ['0', '1', '2']]);
    expect(await stored(handle.jobId)).toEqual(['0', '1', '2', '3']);
    const events = await stores.events.replay({ jobId: handle.jobId, scopeId: scope.scopeId });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'step.completed').map((e) => (e.data as { seq: number }).seq)).toEqual([0, 1, 2, 3]);
    expect(events.at(-1)?.type).toBe('job.completed');
    await kernel.close();
  });

  it('a pause that fails to be written is retried from the journal (the step before it not run again); one that keeps failing fails the job', async () => {
    let plans = 0;
    const pausing: Workflow = async (ctx) => {
      await ctx.step('plan', () => ++plans);
      await ctx.waitForAction({ type: 'approval', title: 'Ship?' });
      return 'shipped';
    };
    // Every way a pause is written (with the steps before it, or alone once they are stored) fails while `failures` lasts.
    const jobs = stores.jobs;
    const original = jobs.updateAfterWrite.bind(jobs);
    const originalGated = jobs.updateWithGatedWrite.bind(jobs);
    let failures = 0;
    const fail = (job: { status: string }) => {
      if (job.status === 'waiting_for_action' && failures-- > 0) throw new StoreUnavailableError({ message: 'connection lost' });
    };
    jobs.updateAfterWrite = async (...args) => (fail(args[0]), original(...args));
    jobs.updateWithGatedWrite = async (...args) => (fail(args[0]), originalGated(...args));
    const kernel = RuntimeKernel.create({ stores, workflows: { pausing }, retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 } });
    try {
      // Fails once: the second attempt replays the stored step and writes the pause.
      failures = 1;
      const once = await kernel.execute({ ...scope, workflow: 'pausing', input: null });
      expect((await once.settled()).status).toBe('waiting_for_action');
      expect(plans).toBe(1);
      expect((await stores.journal.list({ jobId: once.jobId, scopeId: scope.scopeId })).map((e) => e.name)).toEqual(['plan']);
      expect(await stores.actions.listByJob({ jobId: once.jobId, scopeId: scope.scopeId })).toHaveLength(1);

      // Keeps failing: after the last attempt the job fails (it does not stay running with no run), its step kept.
      failures = 100;
      plans = 0;
      const always = await kernel.execute({ ...scope, workflow: 'pausing', input: null });
      expect((await always.settled()).status).toBe('failed');
      expect(plans).toBe(1);
      expect((await stores.journal.list({ jobId: always.jobId, scopeId: scope.scopeId })).map((e) => e.name)).toEqual(['plan']);
      expect(await stores.actions.listByJob({ jobId: always.jobId, scopeId: scope.scopeId })).toEqual([]);
    } finally {
      jobs.updateAfterWrite = original;
      jobs.updateWithGatedWrite = originalGated;
      await kernel.close();
    }
  });

  it('concurrent steps finishing in any order are each stored once, at the seq their step.completed event names', async () => {
    const ran: string[] = [];
    const fanOut: Workflow = async (ctx) => {
      const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const [a, b, c] = await Promise.all([
        ctx.step('slow', async () => (await wait(15), ran.push('slow'), 'slow')),
        ctx.step('fast', () => (ran.push('fast'), 'fast')),
        ctx.step('middle', async () => (await wait(5), ran.push('middle'), 'middle')),
      ]);
      return ctx.step('join', () => (ran.push('join'), `${a}+${b}+${c}`));
    };
    const kernel = RuntimeKernel.create({ stores, workflows: { fanOut } });
    const handle = await kernel.execute({ ...scope, workflow: 'fanOut', input: null });
    expect((await handle.result()).output).toBe('slow+fast+middle');
    const journal = await stores.journal.list({ jobId: handle.jobId, scopeId: scope.scopeId });
    expect(journal.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(journal.map((e) => e.name)).toEqual(['fast', 'middle', 'slow', 'join']);
    const events = await stores.events.replay({ jobId: handle.jobId, scopeId: scope.scopeId });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const completed = events.filter((e) => e.type === 'step.completed').map((e) => e.data as { seq: number; name: string });
    expect(completed.map((d) => [d.seq, d.name])).toEqual(journal.map((e) => [e.seq, e.name]));
    expect(ran.sort()).toEqual(['fast', 'join', 'middle', 'slow']);
    await kernel.close();
  });

  it('a completion that fails to be written leaves its last step stored: the retry replays it instead of running it again', async () => {
    let runs = 0;
    const once: Workflow = async (ctx) => {
      await ctx.step('first', () => 'first');
      return ctx.step('last', () => ++runs);
    };
    // The completion's write (with the last step) fails once, as a dropped connection would.
    let failures = 1;
    const jobs = stores.jobs;
    const original = jobs.updateAfterWrite.bind(jobs);
    jobs.updateAfterWrite = async (...args) => {
      if (failures-- > 0 && args[0].status === 'completed') throw new StoreUnavailableError({ message: 'connection lost' });
      return original(...args);
    };
    const kernel = RuntimeKernel.create({ stores, workflows: { once }, retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 } });
    try {
      const handle = await kernel.execute({ ...scope, workflow: 'once', input: null });
      expect((await handle.result()).output).toBe(1);
      expect(runs).toBe(1);
      expect(failures).toBe(0); // the one write with the step failed; the retry found the step stored and completed alone
      expect((await stores.journal.list({ jobId: handle.jobId, scopeId: scope.scopeId })).map((e) => e.name)).toEqual(['first', 'last']);
    } finally {
      jobs.updateAfterWrite = original;
      await kernel.close();
    }
  });

  it('events kept for the next run (emitOnResume) are published when it resumes', async () => {
    const remind: Workflow = async (ctx) => {
      await ctx.emitOnResume('checkpoint.saved', { seq: 0, key: 'before-approval' });
      await ctx.waitForAction({ type: 'approval', title: 'Go?' });
      return 'done';
    };
    let token = '';
    const kernel = RuntimeKernel.create({ stores, workflows: { remind }, onActionRequired: (info) => (token = info.resumeToken) });
    const handle = await kernel.execute({ ...scope, workflow: 'remind', input: null });
    await handle.settled();
    expect((await stores.journal.load({ jobId: handle.jobId, scopeId: scope.scopeId })).hasDeferredEvents).toBe(true);
    const { handle: resumed } = await kernel.resume(token, { approved: true }, { scopeId: scope.scopeId, principalId: 'boss' });
    expect((await resumed!.result()).output).toBe('done');
    const types = (await stores.events.replay({ jobId: handle.jobId, scopeId: scope.scopeId })).map((e) => e.type);
    expect(types.slice(types.indexOf('job.resumed'))).toEqual(['job.resumed', 'checkpoint.saved', 'job.completed']);
    expect((await stores.journal.load({ jobId: handle.jobId, scopeId: scope.scopeId })).hasDeferredEvents).toBe(false);
    await kernel.close();
  });
});
