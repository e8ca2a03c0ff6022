import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import { InMemoryJobStore } from '../jobs/in-memory-job-store.js';
import { InMemoryJobQueue } from '../jobs/in-memory-job-queue.js';
import { InMemorySignalChannel } from '../actions/in-memory-signal-channel.js';
import type { ActionRecord, ActionStore } from '../ports/action-store.js';
import type { EventBus } from '../ports/event-bus.js';
import type { JobStore } from '../ports/job-store.js';
import { makeTestJobRecord } from './job-store-contract.js';

export interface ActionStoreContractInit {
  store: ActionStore;
  /** Drops what the run created (tables, key prefix); called after each test. */
  cleanup?: () => Promise<void>;
  /**
   * Overwrites a stored action so that it no longer parses (`malformed`) or claims a schema
   * version this runtime does not know (`unknown_version`). Omit it to skip those tests.
   */
  corrupt?: (target: { scopeId: string; actionId: string }, mode: 'malformed' | 'unknown_version') => Promise<void>;
  /**
   * The job store (and bus) for `createWithJobUpdate`: a durable store's own, to test the
   * write in one transaction. Default: in memory. `atomic` says whether a refused job update
   * must leave no action behind (true where the store shares transactions with the job store).
   */
  jobs?: { store: JobStore; bus: EventBus; atomic: boolean } | undefined;
}

/** A valid pending action record, for stores' tests. */
export function sampleActionRecord(overrides: Partial<ActionRecord> = {}): ActionRecord {
  const now = Date.now();
  return {
    schemaVersion: 1,
    id: `act_${randomUUID()}`,
    scopeId: `scope_${randomUUID()}`,
    jobId: `job_${randomUUID()}`,
    stepKey: 'step-1',
    type: 'approval',
    title: 'Approve the refund',
    payload: { amount: '12.50', currency: 'EUR' },
    status: 'pending',
    tokenHash: createHash('sha256').update(randomBytes(32)).digest('hex'),
    approvers: [],
    requiredApprovals: 1,
    approvals: [],
    timeoutSeconds: 3600,
    onTimeout: 'fail',
    createdAt: now,
    expiresAt: now + 3_600_000,
    version: 1,
    ...overrides,
  };
}

export interface ActionStoreContractOptions {
  /** Shown in the suite's title (e.g. 'postgres'). */
  name?: string;
  /** Registers the corrupt-row tests (default true); `init` must then return `corrupt`. */
  corruption?: boolean;
}

/**
 * The conformance suite every `ActionStore` runs: scope isolation, lookup by token hash,
 * compare-and-set (of two concurrent writers exactly one wins), listings and expiry, and typed
 * errors on corrupt rows.
 */
export function describeActionStoreContract(init: () => Promise<ActionStoreContractInit>, options: ActionStoreContractOptions = {}): void {
  describe(`ActionStore contract${options.name ? `: ${options.name}` : ''}`, () => {
    let ctx: ActionStoreContractInit;
    let store: ActionStore;
    beforeEach(async () => {
      ctx = await init();
      store = ctx.store;
    });
    afterEach(async () => {
      await ctx.cleanup?.();
    });

    it('stores and reads back a record', async () => {
      const record = sampleActionRecord({ description: 'why', approvers: ['alice', 'bob'], requiredApprovals: 2 });
      await store.create(record);
      expect(await store.get({ scopeId: record.scopeId, actionId: record.id })).toEqual(record);
    });

    it('rejects a second record with the same id', async () => {
      const record = sampleActionRecord();
      await store.create(record);
      await expect(store.create({ ...sampleActionRecord(), id: record.id })).rejects.toMatchObject({ code: 'duplicate_action' });
    });

    it("treats another scope's record as not found", async () => {
      const record = sampleActionRecord();
      await store.create(record);
      expect(await store.get({ scopeId: 'other-scope', actionId: record.id })).toBeUndefined();
      expect(await store.getByTokenHash({ scopeId: 'other-scope', tokenHash: record.tokenHash })).toBeUndefined();
      expect(await store.listByJob({ scopeId: 'other-scope', jobId: record.jobId })).toEqual([]);
      const cas = await store.compareAndSet({ record: { ...record, scopeId: 'other-scope', status: 'cancelled' }, expectedVersion: 1 });
      expect(cas).toEqual({ ok: false, current: undefined });
      expect((await store.get({ scopeId: record.scopeId, actionId: record.id }))?.status).toBe('pending');
    });

    it('finds an action by its token hash, within its scope', async () => {
      const record = sampleActionRecord();
      await store.create(record);
      expect((await store.getByTokenHash({ scopeId: record.scopeId, tokenHash: record.tokenHash }))?.id).toBe(record.id);
      const unknown = createHash('sha256').update('nope').digest('hex');
      expect(await store.getByTokenHash({ scopeId: record.scopeId, tokenHash: unknown })).toBeUndefined();
    });

    it('compare-and-set bumps the version and refuses a stale expected version', async () => {
      const record = sampleActionRecord();
      await store.create(record);
      const first = await store.compareAndSet({ record: { ...record, status: 'resolved', resolution: { approved: true }, resolvedAt: record.createdAt + 5 }, expectedVersion: 1 });
      expect(first.ok).toBe(true);
      if (first.ok) expect(first.record).toMatchObject({ version: 2, status: 'resolved', resolution: { approved: true } });
      const stale = await store.compareAndSet({ record: { ...record, status: 'cancelled' }, expectedVersion: 1 });
      expect(stale.ok).toBe(false);
      if (!stale.ok) expect(stale.current).toMatchObject({ version: 2, status: 'resolved' });
      expect(await store.get({ scopeId: record.scopeId, actionId: record.id })).toMatchObject({ version: 2, status: 'resolved' });
    });

    it('lets exactly one of two concurrent compare-and-sets win', async () => {
      const record = sampleActionRecord();
      await store.create(record);
      const results = await Promise.all([
        store.compareAndSet({ record: { ...record, status: 'resolved', resolvedBy: 'alice' }, expectedVersion: 1 }),
        store.compareAndSet({ record: { ...record, status: 'rejected', resolvedBy: 'bob' }, expectedVersion: 1 }),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      const winner = results.find((r) => r.ok);
      const stored = await store.get({ scopeId: record.scopeId, actionId: record.id });
      expect(stored?.version).toBe(2);
      if (winner?.ok) expect(stored?.resolvedBy).toBe(winner.record.resolvedBy);
    });

    it('moves the token index when the token hash changes', async () => {
      const record = sampleActionRecord();
      await store.create(record);
      const newHash = createHash('sha256').update(randomBytes(32)).digest('hex');
      const cas = await store.compareAndSet({ record: { ...record, tokenHash: newHash }, expectedVersion: 1 });
      expect(cas.ok).toBe(true);
      expect(await store.getByTokenHash({ scopeId: record.scopeId, tokenHash: record.tokenHash })).toBeUndefined();
      expect((await store.getByTokenHash({ scopeId: record.scopeId, tokenHash: newHash }))?.id).toBe(record.id);
    });

    it("lists a job's actions oldest first", async () => {
      const base = sampleActionRecord();
      const later = sampleActionRecord({ scopeId: base.scopeId, jobId: base.jobId, stepKey: 'step-2', createdAt: base.createdAt + 10 });
      const otherJob = sampleActionRecord({ scopeId: base.scopeId });
      await store.create(later);
      await store.create(base);
      await store.create(otherJob);
      const listed = await store.listByJob({ scopeId: base.scopeId, jobId: base.jobId });
      expect(listed.map((a) => a.id)).toEqual([base.id, later.id]);
    });

    it("lists a scope's pending actions only, up to the limit", async () => {
      const scopeId = `scope_${randomUUID()}`;
      const t = Date.now();
      const a = sampleActionRecord({ scopeId, createdAt: t });
      const b = sampleActionRecord({ scopeId, createdAt: t + 1 });
      const c = sampleActionRecord({ scopeId, createdAt: t + 2 });
      const done = sampleActionRecord({ scopeId, status: 'resolved', createdAt: t + 3 });
      const elsewhere = sampleActionRecord();
      for (const r of [c, a, done, b, elsewhere]) await store.create(r);
      expect((await store.listPending({ scopeId })).map((r) => r.id)).toEqual([a.id, b.id, c.id]);
      expect((await store.listPending({ scopeId, limit: 2 })).map((r) => r.id)).toEqual([a.id, b.id]);
    });

    it('lists pending actions past their expiry, soonest first, across scopes or in one', async () => {
      const now = Date.now();
      const soon = sampleActionRecord({ expiresAt: now - 2000 });
      const sooner = sampleActionRecord({ expiresAt: now - 5000 });
      const exactlyNow = sampleActionRecord({ expiresAt: now });
      const future = sampleActionRecord({ expiresAt: now + 60_000 });
      const resolved = sampleActionRecord({ expiresAt: now - 9000, status: 'resolved' });
      for (const r of [soon, sooner, exactlyNow, future, resolved]) await store.create(r);
      const ours = new Set([soon.id, sooner.id, exactlyNow.id, future.id, resolved.id]);
      const listed = (await store.listExpired({ now, limit: 10_000 })).filter((r) => ours.has(r.id));
      expect(listed.map((r) => r.id)).toEqual([sooner.id, soon.id, exactlyNow.id]);
      expect((await store.listExpired({ now, scopeId: soon.scopeId })).map((r) => r.id)).toEqual([soon.id]);
      const limited = await store.listExpired({ now, scopeId: soon.scopeId, limit: 1 });
      expect(limited).toHaveLength(1);
    });

    const corruptionIt = options.corruption === false ? () => {} : it;

    corruptionIt('throws a typed error naming the action on a corrupt row', async () => {
      const corrupt = corruptOf(ctx);
      const record = sampleActionRecord();
      await store.create(record);
      await corrupt({ scopeId: record.scopeId, actionId: record.id }, 'malformed');
      const error = await store.get({ scopeId: record.scopeId, actionId: record.id }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'corrupt_action_record', actionId: record.id });
    });

    corruptionIt('throws a typed error naming the action on an unknown schema version', async () => {
      const corrupt = corruptOf(ctx);
      const record = sampleActionRecord();
      await store.create(record);
      await corrupt({ scopeId: record.scopeId, actionId: record.id }, 'unknown_version');
      const error = await store.get({ scopeId: record.scopeId, actionId: record.id }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'corrupt_action_record', actionId: record.id });
      expect(String((error as Error).message)).toMatch(/schema version/);
    });

    describe('createWithJobUpdate', () => {
      const setup = async () => {
        const jobs = ctx.jobs ?? { store: new InMemoryJobStore(), bus: new InMemoryEventBus(), atomic: false };
        const scopeId = `scope_${randomUUID()}`;
        const { job } = await jobs.store.create(makeTestJobRecord({ scopeId, status: 'running' }));
        const actions = [sampleActionRecord({ scopeId, jobId: job.id, stepKey: `${job.id}:1` }), sampleActionRecord({ scopeId, jobId: job.id, stepKey: `${job.id}:2` })];
        const events = (type: 'job.waiting'): RuntimeEventInput[] => [{ type, jobId: job.id, scopeId, data: { from: 'running' } } as RuntimeEventInput];
        return { jobs, job, actions, events, scopeId };
      };

      it('stores the actions and the job change, and publishes the events', async () => {
        const { jobs, job, actions, events, scopeId } = await setup();
        const result = await store.createWithJobUpdate(actions, { store: jobs.store, job: { ...job, status: 'waiting_for_action' }, outbox: { bus: jobs.bus, events: events('job.waiting') } });
        expect(result.job).toMatchObject({ status: 'waiting_for_action', version: 2 });
        expect(result.events.map((e) => e.type)).toEqual(['job.waiting']);
        expect((await store.listByJob({ scopeId, jobId: job.id })).map((a) => a.id).sort()).toEqual(actions.map((a) => a.id).sort());
        expect((await jobs.store.get({ scopeId, jobId: job.id }))?.status).toBe('waiting_for_action');
      });

      it('a job update that lost its race fails as update does, publishes nothing, and the same call can be made again', async () => {
        const { jobs, job, actions, events, scopeId } = await setup();
        await jobs.store.update({ ...job, metadata: { touched: true } });
        const stale = store.createWithJobUpdate(actions, { store: jobs.store, job: { ...job, status: 'waiting_for_action' }, outbox: { bus: jobs.bus, events: events('job.waiting') } });
        await expect(stale).rejects.toMatchObject({ code: 'concurrent_modification' });
        expect(await jobs.bus.replay({ scopeId, jobId: job.id })).toEqual([]);
        if (ctx.jobs?.atomic) expect(await store.listByJob({ scopeId, jobId: job.id })).toEqual([]);
        const fresh = (await jobs.store.get({ scopeId, jobId: job.id }))!;
        const again = await store.createWithJobUpdate(actions, { store: jobs.store, job: { ...fresh, status: 'waiting_for_action' } });
        expect(again.job).toMatchObject({ status: 'waiting_for_action', version: 3 });
        expect(await store.listByJob({ scopeId, jobId: job.id })).toHaveLength(2);
      });
    });

    describe('getByTokenHashWithJob and compareAndSetWithJobUpdate', () => {
      /** A job waiting for a pending action, as a pause leaves them. */
      const setup = async () => {
        const jobs = ctx.jobs ?? { store: new InMemoryJobStore(), bus: new InMemoryEventBus(), atomic: false };
        const scopeId = `scope_${randomUUID()}`;
        const { job } = await jobs.store.create(makeTestJobRecord({ scopeId, status: 'waiting_for_action' }));
        const action = sampleActionRecord({ scopeId, jobId: job.id, stepKey: `${job.id}:1` });
        await store.create(action);
        const answer = { record: { ...action, status: 'resolved' as const, resolution: { approved: true }, resolvedBy: 'alice', resolvedAt: Date.now() }, expectedVersion: 1 };
        const events = (): RuntimeEventInput[] => [
          { type: 'action.resolved', jobId: job.id, scopeId, data: { actionId: action.id, actionType: 'approval', outcome: 'resolved' } } as RuntimeEventInput,
          { type: 'job.resumed', jobId: job.id, scopeId, data: { from: 'waiting_for_action' } } as RuntimeEventInput,
        ];
        return { jobs, job, action, answer, events, scopeId };
      };

      it('finds the action by its token with its job, and nothing for another scope or an unknown token', async () => {
        const { jobs, job, action, scopeId } = await setup();
        expect(await store.getByTokenHashWithJob({ scopeId, tokenHash: action.tokenHash }, jobs.store)).toEqual({ action, job });
        expect(await store.getByTokenHashWithJob({ scopeId: 'other', tokenHash: action.tokenHash }, jobs.store)).toBeUndefined();
        expect(await store.getByTokenHashWithJob({ scopeId, tokenHash: 'f'.repeat(64) }, jobs.store)).toBeUndefined();
      });

      it('an action whose job is gone comes with no job', async () => {
        const { jobs, scopeId } = await setup();
        const orphan = sampleActionRecord({ scopeId });
        await store.create(orphan);
        expect(await store.getByTokenHashWithJob({ scopeId, tokenHash: orphan.tokenHash }, jobs.store)).toEqual({ action: orphan, job: undefined });
      });

      it('writes the answer, the job change and the events', async () => {
        const { jobs, job, answer, events, scopeId } = await setup();
        const result = await store.compareAndSetWithJobUpdate(answer, { store: jobs.store, job: { ...job, status: 'running' }, outbox: { bus: jobs.bus, events: events() } });
        expect(result.action).toMatchObject({ ok: true, record: { status: 'resolved', version: 2 } });
        expect(result.job?.job).toMatchObject({ status: 'running', version: 2 });
        expect(result.job?.events.map((e) => e.type)).toEqual(['action.resolved', 'job.resumed']);
        expect(await store.get({ scopeId, actionId: answer.record.id })).toMatchObject({ status: 'resolved', version: 2 });
        expect(await jobs.store.get({ scopeId, jobId: job.id })).toMatchObject({ status: 'running', version: 2 });
        expect((await jobs.bus.replay({ scopeId, jobId: job.id })).map((e) => e.type)).toEqual(['action.resolved', 'job.resumed']);
      });

      it('an answer that lost its race writes nothing', async () => {
        const { jobs, job, action, answer, events, scopeId } = await setup();
        await store.compareAndSet({ record: { ...action, approvals: [{ principalId: 'bob', decision: 'approve', at: Date.now() }] }, expectedVersion: 1 });
        const result = await store.compareAndSetWithJobUpdate(answer, { store: jobs.store, job: { ...job, status: 'running' }, outbox: { bus: jobs.bus, events: events() } });
        expect(result.action.ok).toBe(false);
        expect(result.action.ok ? undefined : result.action.current).toMatchObject({ status: 'pending', version: 2 });
        expect(result.job).toBeUndefined();
        expect(await jobs.store.get({ scopeId, jobId: job.id })).toMatchObject({ status: 'waiting_for_action', version: 1 });
        expect(await jobs.bus.replay({ scopeId, jobId: job.id })).toEqual([]);
      });

      it('a job that changed meanwhile keeps its change: the answer stands, no event is written', async () => {
        const { jobs, job, answer, events, scopeId } = await setup();
        await jobs.store.update({ ...job, status: 'cancelled' });
        const result = await store.compareAndSetWithJobUpdate(answer, { store: jobs.store, job: { ...job, status: 'running' }, outbox: { bus: jobs.bus, events: events() } });
        expect(result.action).toMatchObject({ ok: true, record: { status: 'resolved', version: 2 } });
        expect(result.job).toBeUndefined();
        expect(await store.get({ scopeId, actionId: answer.record.id })).toMatchObject({ status: 'resolved', version: 2 });
        expect(await jobs.store.get({ scopeId, jobId: job.id })).toMatchObject({ status: 'cancelled', version: 2 });
        expect(await jobs.bus.replay({ scopeId, jobId: job.id })).toEqual([]);
      });

      it('of two concurrent answers exactly one wins, with the job', async () => {
        const { jobs, job, answer, events, scopeId } = await setup();
        const other = { ...answer, record: { ...answer.record, resolvedBy: 'bob' } };
        const results = await Promise.all(
          [answer, other].map((a) => store.compareAndSetWithJobUpdate(a, { store: jobs.store, job: { ...job, status: 'running' }, outbox: { bus: jobs.bus, events: events() } })),
        );
        expect(results.filter((r) => r.action.ok)).toHaveLength(1);
        expect(results.filter((r) => r.job !== undefined)).toHaveLength(1);
        expect(await jobs.store.get({ scopeId, jobId: job.id })).toMatchObject({ status: 'running', version: 2 });
        expect((await jobs.bus.replay({ scopeId, jobId: job.id })).map((e) => e.type)).toEqual(['action.resolved', 'job.resumed']);
      });

      it('compareAndSetWithEnqueue writes the answer, then puts the job on the queue with its events and wakes the workers; a lost race writes nothing', async () => {
        const { jobs, job, action, answer, scopeId } = await setup();
        const queue = new InMemoryJobQueue();
        const signals = new InMemorySignalChannel();
        const woken: string[] = [];
        await signals.subscribe('jobs.enqueued', (signal) => void woken.push(signal.subjectId));
        const enqueue = {
          queue,
          options: { jobId: job.id, scopeId, priority: job.priority },
          wake: { channels: signals, channel: 'jobs.enqueued', signal: { schemaVersion: 1 as const, kind: 'job.enqueued' as const, scopeId, subjectId: job.id, at: Date.now() } },
          outbox: { bus: jobs.bus, events: [{ type: 'action.resolved', jobId: job.id, scopeId, data: { actionId: action.id, actionType: 'approval', outcome: 'resolved' } } as RuntimeEventInput] },
        };
        const stale = await store.compareAndSetWithEnqueue({ ...answer, expectedVersion: 2 }, enqueue);
        expect(stale.ok).toBe(false);
        expect(await queue.get({ scopeId, jobId: job.id })).toBeUndefined();
        const won = await store.compareAndSetWithEnqueue(answer, enqueue);
        expect(won).toMatchObject({ ok: true, record: { status: 'resolved', version: 2 } });
        expect(await store.get({ scopeId, actionId: action.id })).toMatchObject({ status: 'resolved', version: 2 });
        expect(await queue.get({ scopeId, jobId: job.id })).toMatchObject({ state: 'ready' });
        expect((await jobs.bus.replay({ scopeId, jobId: job.id })).map((e) => e.type)).toEqual(['action.resolved']);
        await expect.poll(() => woken).toEqual([job.id]);
      });

      it('bad input is refused before anything is written', async () => {
        const { jobs, job, answer, scopeId } = await setup();
        await expect(store.compareAndSetWithJobUpdate({ ...answer, record: { ...answer.record, status: 'bogus' as never } }, { store: jobs.store, job: { ...job, status: 'running' } })).rejects.toMatchObject({
          code: 'invalid_argument',
        });
        await expect(store.compareAndSetWithJobUpdate(answer, { store: jobs.store, job: { ...job, status: 'bogus' as never } })).rejects.toMatchObject({ code: 'invalid_argument' });
        expect(await store.get({ scopeId, actionId: answer.record.id })).toMatchObject({ status: 'pending', version: 1 });
        expect(await jobs.store.get({ scopeId, jobId: job.id })).toMatchObject({ status: 'waiting_for_action', version: 1 });
      });
    });
  });
}

function corruptOf(ctx: ActionStoreContractInit): NonNullable<ActionStoreContractInit['corrupt']> {
  if (!ctx.corrupt) throw new Error('init() must return corrupt(), or pass { corruption: false } to describeActionStoreContract');
  return ctx.corrupt;
}
