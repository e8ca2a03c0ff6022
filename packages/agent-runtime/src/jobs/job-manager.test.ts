import { BatonError, InvalidArgumentError } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, JobNotFoundError } from '../errors/job-errors.js';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import type { RuntimeEvent } from '../events/runtime-event.js';
import type { JobRecord } from './job-record.js';
import { InMemoryJobStore } from './in-memory-job-store.js';
import { JobManager } from './job-manager.js';
import { InMemoryJournalStore } from '../journal/in-memory-journal-store.js';

function setup() {
  let now = 1_000;
  let ids = 0;
  const store = new InMemoryJobStore();
  const events = new InMemoryEventBus({ now: () => now });
  const jobs = new JobManager({ store, events, now: () => now, generateId: () => `job-${++ids}` });
  return { store, events, jobs, advance: (ms: number) => (now += ms) };
}

const spec = { scopeId: 'scope-a', principalId: 'user-1', sessionId: 'sess-1', input: { prompt: 'hi' } };

describe('JobManager', () => {
  it('creates a queued job with its first state and publishes job.created', async () => {
    const { jobs, events } = setup();
    const { job, created } = await jobs.create({ ...spec, priority: 'high', metadata: { source: 'test' } });
    expect(created).toBe(true);
    expect(job).toMatchObject({
      schemaVersion: 1,
      id: 'job-1',
      scopeId: 'scope-a',
      status: 'queued',
      priority: 'high',
      attempts: 0,
      version: 1,
      leaseEpoch: 0,
      budgets: {},
      metadata: { source: 'test' },
      stateHistory: [{ status: 'queued', at: 1_000 }],
    });
    const [event] = await events.replay({ jobId: 'job-1', scopeId: 'scope-a' });
    expect(event).toMatchObject({ type: 'job.created', seq: 1, sessionId: 'sess-1', data: { status: 'queued', priority: 'high', principalId: 'user-1' } });
  });

  it('returns the first job for a repeated idempotency key, without a second event', async () => {
    const { jobs, events } = setup();
    const first = await jobs.create({ ...spec, idempotencyKey: 'k' });
    const again = await jobs.create({ ...spec, idempotencyKey: 'k', input: 'other' });
    expect(again).toEqual({ job: first.job, created: false });
    expect(await events.replay({ jobId: first.job.id, scopeId: 'scope-a' })).toHaveLength(1);
  });

  it('rejects an invalid spec with the offending field', async () => {
    const { jobs } = setup();
    const error = await jobs.create({ ...spec, priority: 'urgent' as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('spec.priority');
    await expect(jobs.create({ ...spec, input: undefined as never })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('walks a job through start, wait, resume and complete, keeping every state and event', async () => {
    const { jobs, events, advance } = setup();
    const { job } = await jobs.create(spec);
    const ref = { scopeId: job.scopeId, jobId: job.id };
    advance(10);
    const running = await jobs.start({ ...ref, lease: { owner: 'worker-1', epoch: 3, expiresAt: 5_000 } });
    expect(running).toMatchObject({ status: 'running', attempts: 1, leaseOwner: 'worker-1', leaseEpoch: 3, leaseExpiresAt: 5_000, version: 2 });
    advance(10);
    const waiting = await jobs.markWaiting({ ...ref, actionId: 'act-1', reason: 'needs approval' });
    expect(waiting.leaseOwner).toBeUndefined();
    expect(waiting.leaseEpoch).toBe(3);
    advance(10);
    await jobs.resume({ ...ref, actionId: 'act-1' });
    advance(10);
    const done = await jobs.complete({ ...ref, result: { answer: 42 } });
    expect(done).toMatchObject({ status: 'completed', result: { answer: 42 }, version: 5, updatedAt: 1_040 });
    expect(done.stateHistory).toEqual([
      { status: 'queued', at: 1_000 },
      { status: 'running', at: 1_010 },
      { status: 'waiting_for_action', at: 1_020, reason: 'needs approval' },
      { status: 'running', at: 1_030 },
      { status: 'completed', at: 1_040 },
    ]);
    const replayed = await events.replay(ref);
    expect(replayed.map((e) => e.type)).toEqual(['job.created', 'job.started', 'job.waiting', 'job.resumed', 'job.completed']);
    expect(replayed.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(replayed[1]).toMatchObject({ data: { from: 'queued', attempt: 1, leaseOwner: 'worker-1', leaseEpoch: 3 } });
    expect(replayed[2]).toMatchObject({ data: { from: 'running', actionId: 'act-1', reason: 'needs approval' } });
  });

  it('stores failures serialized and publishes them', async () => {
    const { jobs, events } = setup();
    const { job } = await jobs.create(spec);
    const ref = { scopeId: job.scopeId, jobId: job.id };
    await jobs.start(ref);
    const failed = await jobs.fail({ ...ref, error: new JobNotFoundError('x', 'y') });
    expect(failed.error).toEqual({ code: 'job_not_found', message: "Job 'x' not found in scope 'y'", retryable: false, name: 'JobNotFoundError' });
    const last = (await events.replay(ref)).at(-1) as RuntimeEvent<'job.failed'>;
    expect(last.data.error.code).toBe('job_not_found');
  });

  it('refuses illegal transitions with a typed error and changes nothing', async () => {
    const { jobs, store } = setup();
    const { job } = await jobs.create(spec);
    const ref = { scopeId: job.scopeId, jobId: job.id };
    await expect(jobs.complete(ref)).rejects.toMatchObject({ code: 'illegal_transition', from: 'queued', to: 'completed', jobId: job.id });
    await jobs.cancel({ ...ref, reason: 'user asked' });
    const error = await jobs.start(ref).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IllegalTransitionError);
    await expect(jobs.resume(ref)).rejects.toBeInstanceOf(IllegalTransitionError);
    expect((await store.get(ref))?.stateHistory.map((s: JobRecord['stateHistory'][number]) => s.status)).toEqual(['queued', 'cancelled']);
  });

  it('only resumes a waiting job, and only starts a queued one', async () => {
    const { jobs } = setup();
    const { job } = await jobs.create(spec);
    const ref = { scopeId: job.scopeId, jobId: job.id };
    await expect(jobs.resume(ref)).rejects.toMatchObject({ code: 'illegal_transition', from: 'queued', to: 'running' });
    await jobs.start(ref);
    await jobs.markWaiting(ref);
    await expect(jobs.start(ref)).rejects.toMatchObject({ code: 'illegal_transition', from: 'waiting_for_action', to: 'running' });
    expect((await jobs.resume(ref)).status).toBe('running');
  });

  it('interrupts, dead-letters and re-queues', async () => {
    const { jobs, events } = setup();
    const a = (await jobs.create(spec)).job;
    await jobs.start({ scopeId: a.scopeId, jobId: a.id });
    expect((await jobs.markInterrupted({ scopeId: a.scopeId, jobId: a.id, byJobId: 'job-next' })).status).toBe('interrupted');
    const b = (await jobs.create(spec)).job;
    const refB = { scopeId: b.scopeId, jobId: b.id };
    await jobs.start(refB);
    await jobs.markDeadLettered({ ...refB, reason: 'claimed 5 times', claims: 5 });
    const requeued = await jobs.requeue({ ...refB, reason: 'fixed' });
    expect(requeued.status).toBe('queued');
    expect((await events.replay(refB)).map((e) => e.type)).toEqual(['job.created', 'job.started', 'job.dead_lettered', 'job.requeued']);
  });

  it('treats another scope as not found', async () => {
    const { jobs } = setup();
    const { job } = await jobs.create(spec);
    await expect(jobs.start({ scopeId: 'scope-b', jobId: job.id })).rejects.toBeInstanceOf(JobNotFoundError);
    expect(await jobs.get({ scopeId: 'scope-b', jobId: job.id })).toBeUndefined();
    expect((await jobs.list({ scopeId: 'scope-b' })).jobs).toEqual([]);
  });

  it('re-reads and re-checks after losing a compare-and-set race', async () => {
    const { jobs } = setup();
    const { job } = await jobs.create(spec);
    const ref = { scopeId: job.scopeId, jobId: job.id };
    await jobs.start(ref);
    const outcomes = await Promise.allSettled([jobs.complete(ref), jobs.cancel(ref)]);
    const fulfilled = outcomes.filter((o) => o.status === 'fulfilled');
    expect(fulfilled).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as BatonError).code).toBe('illegal_transition');
  });

  it('honours expectedVersion without retrying', async () => {
    const { jobs } = setup();
    const { job } = await jobs.create(spec);
    await expect(jobs.start({ scopeId: job.scopeId, jobId: job.id, expectedVersion: 7 })).rejects.toMatchObject({ code: 'concurrent_modification', expectedVersion: 7, actualVersion: 1 });
  });

  describe('journal entries with the transition (TransitionOptions.journal)', () => {
    const entry = (job: JobRecord, stepId: string) => ({ jobId: job.id, scopeId: job.scopeId, stepId, kind: 'custom' as const, name: `step ${stepId}`, status: 'completed' as const, output: stepId, startedAt: 1, durationMs: 1 });
    const running = async () => {
      const { jobs, store } = setup();
      const journal = new InMemoryJournalStore();
      const { job } = await jobs.create(spec);
      const started = await jobs.start({ scopeId: job.scopeId, jobId: job.id });
      return { jobs, store, journal, job: started, ref: { scopeId: job.scopeId, jobId: job.id } };
    };

    it('a store that cannot write both at once gets the entries appended first, then the transition', async () => {
      const { jobs, journal, job, ref } = await running();
      const done = await jobs.complete({ ...ref, result: 'ok', journal: { store: journal, entries: [entry(job, '0'), entry(job, '1')], options: { expectedSeq: 0 } } });
      expect(done.status).toBe('completed');
      expect((await journal.list(ref)).map((e) => e.stepId)).toEqual(['0', '1']);
    });

    it('a refused append fails the transition, which writes nothing', async () => {
      const { jobs, store, journal, job, ref } = await running();
      await journal.append(entry(job, '0'), { expectedSeq: 0 });
      await expect(jobs.complete({ ...ref, result: 'ok', journal: { store: journal, entries: [entry(job, '1')], options: { expectedSeq: 5 } } })).rejects.toMatchObject({ code: 'journal_conflict' });
      expect((await store.get(ref))?.status).toBe('running');
      expect(await journal.list(ref)).toHaveLength(1);
    });

    it('the same entries given again (a caller retrying the transition) are not appended twice', async () => {
      const { jobs, store, journal, job, ref } = await running();
      // The job moves on after the caller read it: its transition fails after the entries went in.
      await store.update({ ...job, metadata: { touched: true } });
      const rider = { store: journal, entries: [entry(job, '0')], options: { expectedSeq: 0 } };
      await expect(jobs.complete({ ...ref, result: 'ok', current: job, expectedVersion: job.version, journal: rider })).rejects.toMatchObject({ code: 'concurrent_modification' });
      const done = await jobs.complete({ ...ref, result: 'ok', journal: rider });
      expect(done.status).toBe('completed');
      expect(await journal.list(ref)).toHaveLength(1);
    });
  });

  it('works without an event bus', async () => {
    const jobs = new JobManager({ store: new InMemoryJobStore() });
    const { job } = await jobs.create(spec);
    expect((await jobs.start({ scopeId: job.scopeId, jobId: job.id })).status).toBe('running');
    expect(() => new JobManager({} as never)).toThrow(InvalidArgumentError);
  });
});
