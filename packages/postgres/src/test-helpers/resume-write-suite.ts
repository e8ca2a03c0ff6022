import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InMemorySignalChannel, type ActionRecord, type ClaimedJob, type JobRecord, type RuntimeEventInput } from '@baton/agent-runtime';
import { makeTestJobRecord, sampleActionRecord } from '@baton/agent-runtime/testing';
import { BatonDatabase } from '../database.js';
import { PostgresEventBus } from '../events/postgres-event-bus.js';
import { PostgresActionStore } from '../stores/postgres-action-store.js';
import { PostgresJobStore } from '../stores/postgres-job-store.js';
import { PostgresJournalStore } from '../stores/postgres-journal-store.js';
import { PostgresJobQueue } from '../queue/postgres-job-queue.js';
import { PostgresSignalChannel } from '../stores/postgres-signal-channel.js';
import type { TestBackend } from './backends.js';
import { freshSchemaName } from './environment.js';
import { closeCountingDatabase, openCountingDatabase, type CountingSqlClient } from './one-statement-suite.js';

/**
 * A resume's database work on `backend` (and a submission's to the workers: one statement): the action read by its token with its job is one
 * statement; the answer written with the job's resume and their events is one statement, which
 * writes both or neither — when either record changed since it was read, the answer goes the
 * ordinary way and the job keeps its own change.
 */
export function describeResumeWrites(backend: TestBackend): void {
  describe(`resume writes: ${backend.name}`, () => {
    let client: CountingSqlClient;
    let database: BatonDatabase;
    let bus: PostgresEventBus;
    let jobs: PostgresJobStore;
    let actions: PostgresActionStore;
    let queue: PostgresJobQueue;
    let signals: PostgresSignalChannel;
    let journal: PostgresJournalStore;
    let scopeId: string;
    let n = 0;

    beforeAll(async () => {
      ({ client, database } = await openCountingDatabase(backend));
      bus = new PostgresEventBus({ database });
      jobs = new PostgresJobStore({ database });
      actions = new PostgresActionStore({ database });
      queue = new PostgresJobQueue({ database });
      signals = new PostgresSignalChannel({ database });
      journal = new PostgresJournalStore({ database });
    });
    afterAll(async () => {
      await bus?.close();
      await closeCountingDatabase(backend, database);
    });
    beforeEach(() => {
      scopeId = `scope-${Date.now().toString(36)}-${(n++).toString(36)}`;
    });

    /** A job waiting for a pending action, the answer and the resume as the kernel builds them. */
    const paused = async () => {
      const { job } = await jobs.create(makeTestJobRecord({ scopeId, status: 'waiting_for_action' }));
      const action = sampleActionRecord({ scopeId, jobId: job.id, stepKey: `${job.id}:1` });
      await actions.create(action);
      const answer = { record: { ...action, status: 'resolved' as const, resolution: { approved: true }, resolvedBy: 'alice', resolvedAt: Date.now() } satisfies ActionRecord, expectedVersion: 1 };
      const resume = (from: JobRecord = job) => ({
        store: jobs,
        job: { ...from, status: 'running' as const },
        outbox: {
          bus,
          events: [
            { type: 'action.resolved', jobId: job.id, scopeId, data: { actionId: action.id, actionType: 'approval', outcome: 'resolved' } },
            { type: 'job.resumed', jobId: job.id, scopeId, data: { from: 'waiting_for_action' } },
          ] as RuntimeEventInput[],
        },
      });
      return { job, action, answer, resume };
    };

    it('reads the action by its token with its job in one statement', async () => {
      const { job, action } = await paused();
      let found: Awaited<ReturnType<PostgresActionStore['getByTokenHashWithJob']>>;
      const statements = await client.during(async () => {
        found = await actions.getByTokenHashWithJob({ scopeId, tokenHash: action.tokenHash }, jobs);
      });
      expect(statements).toHaveLength(1);
      expect(found!).toEqual({ action, job });
    });

    it("with the journal store, reads the waiting job's journal and actions in the same statement, as load and listByJob read them", async () => {
      const { job, action } = await paused();
      const other = sampleActionRecord({ scopeId, jobId: job.id, stepKey: `${job.id}:0`, id: `${action.id}-earlier`, createdAt: action.createdAt - 1000 });
      await actions.create(other);
      const step = { scopeId, jobId: job.id, kind: 'custom' as const, name: 'plan', status: 'completed' as const, output: { plan: 'ship' }, startedAt: 1, durationMs: 1 };
      await journal.append(step, { expectedSeq: 0 });
      await journal.append({ ...step, name: 'check' }, { expectedSeq: 1 });
      let found: Awaited<ReturnType<PostgresActionStore['getByTokenHashWithJob']>>;
      const statements = await client.during(async () => {
        found = await actions.getByTokenHashWithJob({ scopeId, tokenHash: action.tokenHash }, jobs, { journal });
      });
      expect(statements).toHaveLength(1);
      expect(found!.action).toEqual(action);
      expect(found!.job).toEqual(job);
      expect(found!.reads!.journal()).toEqual(await journal.load({ scopeId, jobId: job.id }));
      expect(found!.reads!.actions()).toEqual(await actions.listByJob({ scopeId, jobId: job.id }));
      expect(found!.reads!.journal().entries.map((e) => e.name)).toEqual(['plan', 'check']);
      expect(found!.reads!.actions().map((a) => a.id)).toEqual([other.id, action.id]);
      // Nothing more to read: a job without a journal yet; a job that does not wait; no journal store given.
      const fresh = await paused();
      const none = (await actions.getByTokenHashWithJob({ scopeId, tokenHash: fresh.action.tokenHash }, jobs, { journal }))?.reads;
      expect(none?.journal()).toEqual({ entries: [], head: { nextSeq: 0, firstSeq: 0, leaseEpoch: 0 }, hasDeferredEvents: false });
      expect(none?.actions()).toEqual([fresh.action]);
      await jobs.update({ ...fresh.job, status: 'running' });
      expect((await actions.getByTokenHashWithJob({ scopeId, tokenHash: fresh.action.tokenHash }, jobs, { journal }))?.reads).toBeUndefined();
      expect((await actions.getByTokenHashWithJob({ scopeId, tokenHash: action.tokenHash }, jobs))?.reads).toBeUndefined();
    });

    it("a corrupt journal entry or action read with the action surfaces when it is parsed, as load's and listByJob's do", async () => {
      const { job, action } = await paused();
      const step = { scopeId, jobId: job.id, kind: 'custom' as const, name: 'plan', status: 'completed' as const, startedAt: 1, durationMs: 1 };
      await journal.append(step, { expectedSeq: 0 });
      await client.query(`UPDATE ${database.tables.journalEntries} SET record = '{"schemaVersion": 99}' WHERE scope_id = $1 AND job_id = $2`, [scopeId, job.id]);
      const found = await actions.getByTokenHashWithJob({ scopeId, tokenHash: action.tokenHash }, jobs, { journal });
      expect(found?.action).toEqual(action);
      expect(() => found!.reads!.journal()).toThrow(expect.objectContaining({ code: 'corrupt_record' }));
      await expect(journal.load({ scopeId, jobId: job.id })).rejects.toMatchObject({ code: 'corrupt_record' });
      expect(found!.reads!.actions()).toEqual([action]);
    });

    it('reads no journal for an approval that cannot be the last one (two to go)', async () => {
      const { job } = await jobs.create(makeTestJobRecord({ scopeId, status: 'waiting_for_action' }));
      const action = sampleActionRecord({ scopeId, jobId: job.id, approvers: ['a', 'b', 'c'], requiredApprovals: 3 });
      await actions.create(action);
      expect((await actions.getByTokenHashWithJob({ scopeId, tokenHash: action.tokenHash }, jobs, { journal }))?.reads).toBeUndefined();
      const answered = { ...action, approvals: [{ principalId: 'a', decision: 'approve' as const, resolution: { approved: true }, at: 1 }] } as ActionRecord;
      await actions.compareAndSet({ record: answered, expectedVersion: 1 });
      expect((await actions.getByTokenHashWithJob({ scopeId, tokenHash: action.tokenHash }, jobs, { journal }))?.reads).toBeUndefined();
      await actions.compareAndSet({ record: { ...answered, approvals: [...answered.approvals, { principalId: 'b', decision: 'approve' as const, resolution: { approved: true }, at: 2 }] } as ActionRecord, expectedVersion: 2 });
      expect((await actions.getByTokenHashWithJob({ scopeId, tokenHash: action.tokenHash }, jobs, { journal }))?.reads?.actions()).toHaveLength(1);
    });

    it('writes the answer, the resume and their events in one statement', async () => {
      const { job, answer, resume } = await paused();
      let result: Awaited<ReturnType<PostgresActionStore['compareAndSetWithJobUpdate']>>;
      const statements = await client.during(async () => {
        result = await actions.compareAndSetWithJobUpdate(answer, resume());
      });
      expect(statements).toHaveLength(1);
      expect(result!.action).toMatchObject({ ok: true, record: { status: 'resolved', version: 2 } });
      expect(result!.job?.job).toMatchObject({ status: 'running', version: 2 });
      expect((await bus.replay({ scopeId, jobId: job.id })).map((e) => [e.seq, e.type])).toEqual([
        [1, 'action.resolved'],
        [2, 'job.resumed'],
      ]);
    });

    it("sends the answer's wake-up signal from the same statement when its channel is on this database; a lost race sends nothing", async () => {
      const { job, action, answer, resume } = await paused();
      const channel = `action.resolved:${scopeId}:${action.id}`;
      const signal = { channels: signals, channel, signal: { schemaVersion: 1 as const, kind: 'action.resolved' as const, scopeId, subjectId: action.id, at: Date.now(), data: { status: 'resolved', jobId: job.id } } };
      const woken: string[] = [];
      const stop = await signals.subscribe(channel, (received) => void woken.push(`${received.kind}:${received.subjectId}`));
      const lost = await actions.compareAndSetWithJobUpdate({ ...answer, expectedVersion: 2 }, { ...resume(), signal });
      expect(lost.action.ok).toBe(false);
      let result: Awaited<ReturnType<PostgresActionStore['compareAndSetWithJobUpdate']>>;
      const statements = await client.during(async () => {
        result = await actions.compareAndSetWithJobUpdate(answer, { ...resume(), signal });
      });
      expect(statements).toHaveLength(1);
      expect(result!.action).toMatchObject({ ok: true, signalled: true, record: { status: 'resolved', version: 2 } });
      await expect.poll(() => woken).toEqual([`action.resolved:${action.id}`]);
      // A channel of another database is left to the caller.
      const elsewhere = new PostgresSignalChannel({ database: new BatonDatabase({ client, schema: `${database.tables.schema}_other` }) });
      const second = await paused();
      const apart = await actions.compareAndSetWithJobUpdate(second.answer, { ...second.resume(), signal: { ...signal, channels: elsewhere } });
      expect(apart.action).toMatchObject({ ok: true });
      expect(apart.action.ok && apart.action.signalled).toBe(false);
      await stop();
    });

    it("with the workers' wake-ups on another channel (Redis, memory), a submitted job and an answer's enqueue are still one statement each, the wake-up published once it wrote", async () => {
      const elsewhere = new InMemorySignalChannel();
      const woken: string[] = [];
      await elsewhere.subscribe('jobs.enqueued', (signal) => void woken.push(signal.subjectId));
      const wakeFor = (jobId: string) => ({ channels: elsewhere, channel: 'jobs.enqueued', signal: { schemaVersion: 1 as const, kind: 'job.enqueued' as const, scopeId, subjectId: jobId, at: Date.now() } });
      const job = makeTestJobRecord({ scopeId, status: 'queued' });
      const submitted = await client.during(async () => {
        expect(await queue.enqueueNewJob({ store: jobs, job, outbox: { bus, events: [{ type: 'job.created', jobId: job.id, scopeId, data: { status: 'queued', priority: job.priority, principalId: job.principalId } }] as RuntimeEventInput[] } }, wakeFor(job.id))).toEqual({ job, created: true });
      });
      expect(submitted).toHaveLength(1);
      expect(await queue.get({ scopeId, jobId: job.id })).toMatchObject({ state: 'ready' });
      await expect.poll(() => woken).toEqual([job.id]);

      const { job: waiting, action, answer } = await paused();
      const enqueue = { queue, options: { jobId: waiting.id, scopeId, priority: waiting.priority }, wake: wakeFor(waiting.id), outbox: { bus, events: [{ type: 'action.resolved', jobId: waiting.id, scopeId, data: { actionId: action.id, actionType: 'approval', outcome: 'resolved' } }] as RuntimeEventInput[] } };
      // A lost race writes nothing and wakes nobody.
      expect(await actions.compareAndSetWithEnqueue({ ...answer, expectedVersion: 2 }, enqueue)).toMatchObject({ ok: false });
      const answered = await client.during(async () => {
        expect(await actions.compareAndSetWithEnqueue(answer, enqueue)).toMatchObject({ ok: true, record: { status: 'resolved', version: 2 } });
      });
      expect(answered).toHaveLength(1);
      expect(await queue.get({ scopeId, jobId: waiting.id })).toMatchObject({ state: 'ready' });
      expect((await bus.replay({ scopeId, jobId: waiting.id })).map((e) => e.type)).toEqual(['action.resolved']);
      await expect.poll(() => woken).toEqual([job.id, waiting.id]);
    });

    it('a job submitted to the workers is one statement: created, enqueued, job.created and the wake-up; its idempotency key again enqueues nothing; a taken id fails and enqueues nothing', async () => {
      const woken: string[] = [];
      const stop = await signals.subscribe('jobs.enqueued', (signal) => void woken.push(signal.subjectId));
      const job = makeTestJobRecord({ scopeId, status: 'queued', idempotencyKey: `key-${scopeId}` });
      const wake = { channels: signals, channel: 'jobs.enqueued', signal: { schemaVersion: 1 as const, kind: 'job.enqueued' as const, scopeId, subjectId: job.id, at: Date.now() } };
      const outbox = { bus, events: [{ type: 'job.created', jobId: job.id, scopeId, data: { status: 'queued', priority: job.priority, principalId: job.principalId } }] as RuntimeEventInput[] };
      let result: Awaited<ReturnType<PostgresJobQueue['enqueueNewJob']>>;
      const statements = await client.during(async () => {
        result = await queue.enqueueNewJob({ store: jobs, job, outbox }, wake);
      });
      expect(statements).toHaveLength(1);
      expect(result!).toEqual({ job, created: true });
      expect(await jobs.get({ scopeId, jobId: job.id })).toEqual(job);
      expect(await queue.get({ scopeId, jobId: job.id })).toMatchObject({ state: 'ready', priority: job.priority });
      expect((await bus.replay({ scopeId, jobId: job.id })).map((e) => e.type)).toEqual(['job.created']);
      await expect.poll(() => woken).toEqual([job.id]);
      // The same idempotency key: the first job back, nothing enqueued or published again.
      const again = await queue.enqueueNewJob({ store: jobs, job: { ...job, id: `${job.id}-again` }, outbox }, wake);
      expect(again).toEqual({ job, created: false });
      expect(await queue.get({ scopeId, jobId: `${job.id}-again` })).toBeUndefined();
      expect((await bus.replay({ scopeId, jobId: job.id })).map((e) => e.type)).toEqual(['job.created']);
      expect(await queue.get({ scopeId, jobId: job.id })).toMatchObject({ state: 'ready' });
      // A job id already taken (without a key): JobAlreadyExistsError, and the queue is left alone.
      const taken = makeTestJobRecord({ scopeId, status: 'queued' });
      await jobs.create(taken);
      await expect(queue.enqueueNewJob({ store: jobs, job: taken, outbox: { bus, events: [] } }, wake)).rejects.toMatchObject({ code: 'job_already_exists' });
      expect(await queue.get({ scopeId, jobId: taken.id })).toBeUndefined();
      await stop();
    });

    /**
     * Stores on a schema of their own (claims take any ready job of the schema), dropped after
     * `fn`; `running()` creates a running job and the lease of worker w1 on it.
     */
    const onOwnSchema = async (
      fn: (own: { database: BatonDatabase; q: PostgresJobQueue; js: PostgresJobStore; b: PostgresEventBus; running: () => Promise<{ job: JobRecord; lease: ClaimedJob }> }) => Promise<void>,
    ) => {
      const database = new BatonDatabase({ client, schema: freshSchemaName() });
      await database.migrate();
      const q = new PostgresJobQueue({ database });
      const js = new PostgresJobStore({ database });
      const b = new PostgresEventBus({ database });
      const running = async () => {
        const { job } = await js.create(makeTestJobRecord({ scopeId, status: 'running' }));
        await q.enqueue({ scopeId, jobId: job.id });
        const [lease] = (await q.claim({ workerId: 'w1', leaseMs: 60_000 })).jobs;
        expect(lease?.jobId).toBe(job.id);
        return { job, lease: lease! };
      };
      try {
        await fn({ database, q, js, b, running });
      } finally {
        await b.close();
        await (await backend.client()).query(`DROP SCHEMA IF EXISTS ${database.tables.schema} CASCADE`);
      }
    };

    it("a worker's completion and its lease's ack are one statement; a lost lease or a changed job writes neither", async () => {
      await onOwnSchema(async ({ q, js, b, running }) => {
        const completed = (job: JobRecord) => ({ store: js, job: { ...job, status: 'completed' as const, result: 'done' }, outbox: { bus: b, events: [{ type: 'job.completed', jobId: job.id, scopeId, data: { from: 'running' } }] as RuntimeEventInput[] } });
        const first = await running();
        let written: Awaited<ReturnType<PostgresJobQueue['ackWithJobUpdate']>>;
        const statements = await client.during(async () => {
          written = await q.ackWithJobUpdate(first.lease, completed(first.job));
        });
        expect(statements).toHaveLength(1);
        expect(written!.job).toMatchObject({ status: 'completed', version: 2 });
        expect(await q.get({ scopeId, jobId: first.job.id })).toBeUndefined(); // acked: no longer in the queue
        expect((await b.replay({ scopeId, jobId: first.job.id })).map((e) => e.type)).toEqual(['job.completed']);

        // The lease went to another worker: LeaseLostError, the job and the new holder's lease untouched.
        const second = await running();
        await q.release(second.lease);
        const [taken] = (await q.claim({ workerId: 'w2', leaseMs: 60_000 })).jobs;
        expect(taken).toMatchObject({ jobId: second.job.id, epoch: 2 });
        await expect(q.ackWithJobUpdate(second.lease, completed(second.job))).rejects.toMatchObject({ code: 'lease_lost' });
        expect(await js.get({ scopeId, jobId: second.job.id })).toMatchObject({ status: 'running', version: 1 });
        expect(await q.get({ scopeId, jobId: second.job.id })).toMatchObject({ state: 'leased', workerId: 'w2', epoch: 2 });
        expect(await b.replay({ scopeId, jobId: second.job.id })).toEqual([]);

        // The job changed since the worker read it: the conflict is reported and the lease is not acked.
        const third = await running();
        await js.update({ ...third.job, metadata: { touched: true } });
        await expect(q.ackWithJobUpdate(third.lease, completed(third.job))).rejects.toMatchObject({ code: 'concurrent_modification' });
        expect(await q.get({ scopeId, jobId: third.job.id })).toMatchObject({ state: 'leased', workerId: 'w1' });
      });
    });

    it("a run's last steps are stored with its completion (and its lease's ack) in one statement; a refused append, a changed job or a lost lease writes none of it", async () => {
      await onOwnSchema(async ({ database: own, q, js, b, running }) => {
        const jn = new PostgresJournalStore({ database: own });
        const entry = (job: JobRecord, stepId: string) => ({ jobId: job.id, scopeId, stepId, kind: 'custom' as const, name: `step ${stepId}`, status: 'completed' as const, output: stepId, startedAt: 1, durationMs: 1 });
        const completed = (job: JobRecord) => ({
          store: js,
          job: { ...job, status: 'completed' as const, result: 'done' },
          outbox: {
            bus: b,
            events: [
              { type: 'step.completed', jobId: job.id, scopeId, data: { seq: 1, key: `${job.id}:1`, kind: 'custom', name: 'step 1', durationMs: 1 } },
              { type: 'job.completed', jobId: job.id, scopeId, data: { from: 'running' } },
            ] as RuntimeEventInput[],
          },
        });
        const nothingWritten = async (job: JobRecord, journalLength: number) => {
          expect(await js.get({ scopeId, jobId: job.id })).toMatchObject({ status: 'running', version: job.version });
          expect(await jn.list({ scopeId, jobId: job.id })).toHaveLength(journalLength);
          expect(await b.replay({ scopeId, jobId: job.id })).toEqual([]);
        };
        // The first entries of a job (seq 0 creates the journal's head) and the completion: one statement.
        const { job: a } = await js.create(makeTestJobRecord({ scopeId, status: 'running' }));
        let written: Awaited<ReturnType<PostgresJournalStore['appendManyWithJobUpdate']>>;
        const statements = await client.during(async () => {
          written = await jn.appendManyWithJobUpdate([entry(a, '0'), entry(a, '1')], { expectedSeq: 0 }, completed(a));
        });
        expect(statements).toHaveLength(1);
        expect(written!.job).toMatchObject({ status: 'completed', version: 2 });
        expect(written!.events.map((e) => e.type)).toEqual(['step.completed', 'job.completed']);
        expect((await jn.list({ scopeId, jobId: a.id })).map((e) => [e.seq, e.stepId, e.output])).toEqual([[0, '0', '0'], [1, '1', '1']]);
        expect((await b.replay({ scopeId, jobId: a.id })).map((e) => e.type)).toEqual(['step.completed', 'job.completed']);

        // Later entries (the head advances from its next seq), under the run's lease epoch.
        const { job: c } = await js.create(makeTestJobRecord({ scopeId, status: 'running' }));
        await jn.append(entry(c, '0'), { expectedSeq: 0, leaseEpoch: 1 });
        expect((await jn.appendManyWithJobUpdate([entry(c, '1')], { expectedSeq: 1, leaseEpoch: 1 }, completed(c)))?.job).toMatchObject({ status: 'completed' });
        expect(await jn.head({ scopeId, jobId: c.id })).toMatchObject({ nextSeq: 2, leaseEpoch: 1 });

        // Refused append (another seq is next, or a newer lease epoch fenced the journal): nothing written.
        const { job: d } = await js.create(makeTestJobRecord({ scopeId, status: 'running' }));
        await jn.append(entry(d, '0'), { expectedSeq: 0, leaseEpoch: 2 });
        expect(await jn.appendManyWithJobUpdate([entry(d, '1')], { expectedSeq: 5, leaseEpoch: 2 }, completed(d))).toBeUndefined();
        await nothingWritten(d, 1);
        expect(await jn.appendManyWithJobUpdate([entry(d, '1')], { expectedSeq: 1, leaseEpoch: 1 }, completed(d))).toBeUndefined();
        await nothingWritten(d, 1);
        expect(await jn.head({ scopeId, jobId: d.id })).toMatchObject({ nextSeq: 1, leaseEpoch: 2 });

        // The job changed since the run read it: no entry, no change, no event.
        const { job: e } = await js.create(makeTestJobRecord({ scopeId, status: 'running' }));
        const touched = await js.update({ ...e, metadata: { touched: true } });
        expect(await jn.appendManyWithJobUpdate([entry(e, '0')], { expectedSeq: 0 }, completed(e))).toBeUndefined();
        await nothingWritten(touched, 0);

        // With a worker's lease: the ack too, in the same statement; a lost lease writes none of it.
        const first = await running();
        const acked = await client.during(async () => {
          written = await jn.appendManyWithJobUpdate([entry(first.job, '0')], { expectedSeq: 0, leaseEpoch: first.lease.epoch }, { ...completed(first.job), ack: { queue: q, lease: first.lease } });
        });
        expect(acked).toHaveLength(1);
        expect(written!.job).toMatchObject({ status: 'completed' });
        expect(await q.get({ scopeId, jobId: first.job.id })).toBeUndefined();
        expect(await jn.list({ scopeId, jobId: first.job.id })).toHaveLength(1);
        const second = await running();
        await q.release(second.lease);
        await q.claim({ workerId: 'w2', leaseMs: 60_000 });
        expect(await jn.appendManyWithJobUpdate([entry(second.job, '0')], { expectedSeq: 0, leaseEpoch: second.lease.epoch }, { ...completed(second.job), ack: { queue: q, lease: second.lease } })).toBeUndefined();
        await nothingWritten(second.job, 0);
        expect(await q.get({ scopeId, jobId: second.job.id })).toMatchObject({ state: 'leased', workerId: 'w2' });

        // With a pause's requests: the steps, the job waiting, its actions and events in one statement; a changed job writes none of them.
        const actionStore = new PostgresActionStore({ database: own });
        const pausing = async () => {
          const { job } = await js.create(makeTestJobRecord({ scopeId, status: 'running' }));
          const paused = { store: js, job: { ...job, status: 'waiting_for_action' as const }, outbox: { bus: b, events: [{ type: 'job.waiting', jobId: job.id, scopeId, data: { from: 'running' } }] as RuntimeEventInput[] } };
          return { job, paused, request: sampleActionRecord({ scopeId, jobId: job.id, stepKey: `${job.id}:1` }) };
        };
        const p1 = await pausing();
        const pause = await client.during(async () => {
          written = await jn.appendManyWithJobUpdate([entry(p1.job, '0')], { expectedSeq: 0 }, { ...p1.paused, actions: { store: actionStore, records: [p1.request] } });
        });
        expect(pause).toHaveLength(1);
        expect(written!.job).toMatchObject({ status: 'waiting_for_action' });
        expect(await actionStore.listByJob({ scopeId, jobId: p1.job.id })).toHaveLength(1);
        expect(await jn.list({ scopeId, jobId: p1.job.id })).toHaveLength(1);
        const p2 = await pausing();
        const touchedP2 = await js.update({ ...p2.job, metadata: { touched: true } });
        expect(await jn.appendManyWithJobUpdate([entry(p2.job, '0')], { expectedSeq: 0 }, { ...p2.paused, actions: { store: actionStore, records: [p2.request] } })).toBeUndefined();
        await nothingWritten(touchedP2, 0);
        expect(await actionStore.listByJob({ scopeId, jobId: p2.job.id })).toEqual([]);
        // A request whose id is taken: DuplicateActionError, nothing written.
        const p3 = await pausing();
        await expect(jn.appendManyWithJobUpdate([entry(p3.job, '0')], { expectedSeq: 0 }, { ...p3.paused, actions: { store: actionStore, records: [{ ...p3.request, id: p1.request.id }] } })).rejects.toMatchObject({ code: 'duplicate_action' });
        await nothingWritten(p3.job, 0);

        // Bad input: another job's entries, an invalid entry. InvalidArgumentError, nothing written.
        const { job: f } = await js.create(makeTestJobRecord({ scopeId, status: 'running' }));
        await expect(jn.appendManyWithJobUpdate([entry(a, '9')], { expectedSeq: 0 }, completed(f))).rejects.toMatchObject({ code: 'invalid_argument' });
        await expect(jn.appendManyWithJobUpdate([{ ...entry(f, '0'), kind: 'nonsense' as never }], { expectedSeq: 0 }, completed(f))).rejects.toMatchObject({ code: 'invalid_argument' });
        await nothingWritten(f, 0);

        // Stores on another database: not at once (the caller writes them one after the other).
        const other = new PostgresJobStore({ database: database });
        expect(await jn.appendManyWithJobUpdate([entry(f, '0')], { expectedSeq: 0 }, { ...completed(f), store: other })).toBeUndefined();
        await nothingWritten(f, 0);
      });
    });

    it("with workers running the jobs, writes the answer, the enqueue, its event, the workers' wake-up and the answer's signal in one statement; a lost race writes nothing", async () => {
      const { job, action, answer } = await paused();
      const enqueue = {
        queue,
        options: { jobId: job.id, scopeId, priority: job.priority },
        wake: { channels: signals, channel: 'jobs.enqueued', signal: { schemaVersion: 1 as const, kind: 'job.enqueued' as const, scopeId, subjectId: job.id, at: Date.now() } },
        outbox: { bus, events: [{ type: 'action.resolved', jobId: job.id, scopeId, data: { actionId: action.id, actionType: 'approval', outcome: 'resolved' } }] as RuntimeEventInput[] },
        answered: { channels: signals, channel: 'actions.resolved', signal: { schemaVersion: 1 as const, kind: 'action.resolved' as const, scopeId, subjectId: action.id, at: Date.now() } },
      };
      const woken: string[] = [];
      const stop = await signals.subscribe('jobs.enqueued', (signal) => void woken.push(signal.subjectId));
      const resolved: string[] = [];
      const stopResolved = await signals.subscribe('actions.resolved', (signal) => void resolved.push(signal.subjectId));
      const stale = await actions.compareAndSetWithEnqueue({ ...answer, expectedVersion: 2 }, enqueue);
      expect(stale).toMatchObject({ ok: false, current: { status: 'pending', version: 1 } });
      expect(await queue.get({ scopeId, jobId: job.id })).toBeUndefined();
      expect(await bus.replay({ scopeId, jobId: job.id })).toEqual([]);
      let won: Awaited<ReturnType<PostgresActionStore['compareAndSetWithEnqueue']>>;
      const statements = await client.during(async () => {
        won = await actions.compareAndSetWithEnqueue(answer, enqueue);
      });
      expect(statements).toHaveLength(1);
      expect(won!).toMatchObject({ ok: true, record: { status: 'resolved', version: 2 }, signalled: true });
      expect(await actions.get({ scopeId, actionId: action.id })).toMatchObject({ status: 'resolved', version: 2 });
      expect(await queue.get({ scopeId, jobId: job.id })).toMatchObject({ state: 'ready', priority: job.priority });
      expect((await bus.replay({ scopeId, jobId: job.id })).map((e) => e.type)).toEqual(['action.resolved']);
      await expect.poll(() => woken).toEqual([job.id]);
      await expect.poll(() => resolved).toEqual([action.id]);
      // The lost race sent neither signal.
      expect(woken).toHaveLength(1);
      expect(resolved).toHaveLength(1);
      await stop();
      await stopResolved();
    });

    it('a job that changed since it was read: the answer is written alone, the job keeps its change, no event', async () => {
      const { job, answer, resume } = await paused();
      await jobs.update({ ...job, status: 'cancelled' });
      const result = await actions.compareAndSetWithJobUpdate(answer, resume());
      expect(result.action.ok).toBe(true);
      expect(result.job).toBeUndefined();
      expect(await actions.get({ scopeId, actionId: answer.record.id })).toMatchObject({ status: 'resolved', version: 2 });
      expect(await jobs.get({ scopeId, jobId: job.id })).toMatchObject({ status: 'cancelled', version: 2 });
      expect(await bus.replay({ scopeId, jobId: job.id })).toEqual([]);
    });

    it('racing with other writers of the job and the action, a resume never lands without its answer', async () => {
      for (let round = 0; round < 10; round++) {
        const { job, action, answer, resume } = await paused();
        const [result] = await Promise.all([
          actions.compareAndSetWithJobUpdate(answer, resume()),
          round % 2 === 0
            ? jobs.update({ ...job, metadata: { touched: round } }).catch(() => undefined)
            : actions.compareAndSet({ record: { ...action, approvals: [{ principalId: 'bob', decision: 'approve', at: Date.now() }] }, expectedVersion: 1 }),
        ]);
        const stored = await jobs.get({ scopeId, jobId: job.id });
        const answered = await actions.get({ scopeId, actionId: action.id });
        if (result.job) {
          expect(stored).toMatchObject({ status: 'running' });
          expect(answered).toMatchObject({ status: 'resolved', resolvedBy: 'alice' });
        } else {
          expect(stored?.status).toBe('waiting_for_action');
          expect(await bus.replay({ scopeId, jobId: job.id })).toEqual([]);
        }
        expect(result.action.ok).toBe(answered?.resolvedBy === 'alice');
      }
    });
  });
}
