import { BatonError } from '@baton/llm-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobAlreadyExistsError, JobNotFoundError } from '../errors/job-errors.js';
import { ConcurrentModificationError, CorruptRecordError } from '../errors/store-errors.js';
import type { JobRecord, JobRef } from '../jobs/job-record.js';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import type { EventBus } from '../ports/event-bus.js';
import type { JobStore } from '../ports/job-store.js';

/** What a backend hands the job store suite for one test. */
export interface JobStoreContractHarness {
  readonly store: JobStore;
  readonly cleanup?: (() => Promise<void> | void) | undefined;
  /**
   * Overwrites the stored row of an existing job with `raw` as is, bypassing validation, as a
   * damaged row or one written by a newer schema would be.
   */
  readonly corrupt: (options: JobRef & { raw: unknown }) => Promise<void> | void;
  /** The bus for `createWithEvents`/`updateWithEvents` (a durable store's own); default in memory. */
  readonly bus?: EventBus | undefined;
}

export type JobStoreContractInit = () => Promise<JobStoreContractHarness> | JobStoreContractHarness;

let counter = 0;
const unique = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** A valid version-1 job record for tests. */
export function makeTestJobRecord(overrides: Partial<JobRecord> & { scopeId: string }): JobRecord {
  const at = overrides.createdAt ?? 1_700_000_000_000;
  return {
    schemaVersion: 1,
    id: unique('job'),
    principalId: 'user-1',
    priority: 'normal',
    status: 'queued',
    input: { prompt: 'hello' },
    budgets: {},
    metadata: {},
    attempts: 0,
    stateHistory: [{ status: 'queued', at }],
    createdAt: at,
    updatedAt: at,
    leaseEpoch: 0,
    version: 1,
    ...overrides,
  };
}

async function rejects(promise: Promise<unknown>, code: string): Promise<BatonError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(BatonError.isInstance(error), `expected a BatonError with code '${code}', got ${String(error)}`).toBe(true);
  expect((error as BatonError).code).toBe(code);
  return error as BatonError;
}

/**
 * The behaviour every `JobStore` must have. Each test uses fresh scope ids, so a backend may
 * return the same store from `init` every time.
 */
export function describeJobStoreContract(init: JobStoreContractInit, options: { name?: string } = {}): void {
  describe(options.name ?? 'JobStore contract', () => {
    let h: JobStoreContractHarness;
    let store: JobStore;
    let scope: string;
    beforeEach(async () => {
      h = await init();
      store = h.store;
      scope = unique('scope');
    });
    afterEach(async () => {
      await h.cleanup?.();
    });

    describe('create and get', () => {
      it('stores a job as given, with every optional field', async () => {
        const job = makeTestJobRecord({
          scopeId: scope,
          sessionId: 'session-1',
          parentJobId: 'parent-1',
          idempotencyKey: unique('key'),
          priority: 'high',
          input: { messages: [{ role: 'user', content: 'hi' }], n: 1.5, ok: true, none: null },
          budgets: { maxTokens: 1000, maxCost: '0.50' },
          policyRef: { name: 'default', version: '2' },
          metadata: { tag: 'a' },
          leaseOwner: 'worker-1',
          leaseExpiresAt: 1_700_000_005_000,
          leaseEpoch: 2,
        });
        const { job: stored, created } = await store.create(job);
        expect(created).toBe(true);
        expect(stored).toEqual(job);
        expect(await store.get({ scopeId: scope, jobId: job.id })).toEqual(job);
      });

      it('returns undefined for an unknown job', async () => {
        expect(await store.get({ scopeId: scope, jobId: 'missing' })).toBeUndefined();
      });

      it('is idempotent by scope and idempotency key', async () => {
        const key = unique('key');
        const first = await store.create(makeTestJobRecord({ scopeId: scope, idempotencyKey: key, input: 1 }));
        const again = await store.create(makeTestJobRecord({ scopeId: scope, idempotencyKey: key, input: 2 }));
        expect(again.created).toBe(false);
        expect(again.job).toEqual(first.job);
        expect(await store.findByIdempotencyKey({ scopeId: scope, idempotencyKey: key })).toEqual(first.job);
        const other = await store.create(makeTestJobRecord({ scopeId: unique('scope'), idempotencyKey: key }));
        expect(other.created).toBe(true);
      });

      it('creates one job when the same key is used concurrently', async () => {
        const key = unique('key');
        const results = await Promise.all(Array.from({ length: 8 }, () => store.create(makeTestJobRecord({ scopeId: scope, idempotencyKey: key }))));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
        expect((await store.list({ scopeId: scope })).jobs).toHaveLength(1);
      });

      it('refuses a second job with the same id', async () => {
        const job = makeTestJobRecord({ scopeId: scope });
        await store.create(job);
        const error = await rejects(store.create({ ...job, input: 'other' }), 'job_already_exists');
        expect(error).toBeInstanceOf(JobAlreadyExistsError);
      });

      it('rejects an invalid record and stores nothing', async () => {
        const job = makeTestJobRecord({ scopeId: scope });
        await rejects(store.create({ ...job, status: 'exploded' } as unknown as JobRecord), 'invalid_argument');
        await rejects(store.create({ ...job, input: { f: () => 1 } } as unknown as JobRecord), 'invalid_argument');
        expect(await store.get({ scopeId: scope, jobId: job.id })).toBeUndefined();
      });

      it('keeps stored state away from callers', async () => {
        const job = makeTestJobRecord({ scopeId: scope, input: { list: [1, 2] } });
        const { job: stored } = await store.create(job);
        (job.input as { list: number[] }).list.push(3);
        try {
          (stored.input as { list: number[] }).list.push(4);
        } catch {
          // Frozen records refuse the change, which is as good.
        }
        expect((await store.get({ scopeId: scope, jobId: job.id }))?.input).toEqual({ list: [1, 2] });
      });
    });

    describe('scope isolation', () => {
      it("never shows, updates or finds another scope's job", async () => {
        const job = makeTestJobRecord({ scopeId: scope, idempotencyKey: unique('key') });
        await store.create(job);
        const other = unique('scope');
        expect(await store.get({ scopeId: other, jobId: job.id })).toBeUndefined();
        expect((await store.list({ scopeId: other })).jobs).toEqual([]);
        expect(await store.findByIdempotencyKey({ scopeId: other, idempotencyKey: job.idempotencyKey as string })).toBeUndefined();
        const error = await rejects(store.update({ ...job, scopeId: other }), 'job_not_found');
        expect(error).toBeInstanceOf(JobNotFoundError);
      });

      it('lets two scopes use the same job id', async () => {
        const a = makeTestJobRecord({ scopeId: scope, id: 'shared-id', input: 'a' });
        const b = makeTestJobRecord({ scopeId: unique('scope'), id: 'shared-id', input: 'b' });
        await store.create(a);
        await store.create(b);
        expect((await store.get({ scopeId: a.scopeId, jobId: 'shared-id' }))?.input).toBe('a');
        expect((await store.get({ scopeId: b.scopeId, jobId: 'shared-id' }))?.input).toBe('b');
      });
    });

    describe('update (compare-and-set)', () => {
      it('writes the next version and returns it', async () => {
        const { job } = await store.create(makeTestJobRecord({ scopeId: scope }));
        const next = await store.update({ ...job, status: 'running', attempts: 1, updatedAt: job.updatedAt + 5 });
        expect(next).toMatchObject({ status: 'running', attempts: 1, version: 2 });
        expect(await store.get({ scopeId: scope, jobId: job.id })).toEqual(next);
      });

      it('refuses a stale version', async () => {
        const { job } = await store.create(makeTestJobRecord({ scopeId: scope }));
        await store.update({ ...job, status: 'running' });
        const error = await rejects(store.update({ ...job, status: 'cancelled' }), 'concurrent_modification');
        expect(error).toBeInstanceOf(ConcurrentModificationError);
        expect(error.retryable).toBe(true);
        expect((await store.get({ scopeId: scope, jobId: job.id }))?.status).toBe('running');
      });

      it('lets exactly one of concurrent updates from the same version win', async () => {
        const { job } = await store.create(makeTestJobRecord({ scopeId: scope }));
        const outcomes = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) => store.update({ ...job, metadata: { writer: i } })),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as BatonError).code).toBe('concurrent_modification');
        expect((await store.get({ scopeId: scope, jobId: job.id }))?.version).toBe(2);
      });

      it('refuses unknown jobs and changes to fields fixed at create', async () => {
        await rejects(store.update(makeTestJobRecord({ scopeId: scope })), 'job_not_found');
        const { job } = await store.create(makeTestJobRecord({ scopeId: scope }));
        await rejects(store.update({ ...job, principalId: 'someone-else' }), 'invalid_argument');
        await rejects(store.update({ ...job, createdAt: job.createdAt + 1 }), 'invalid_argument');
        await rejects(store.update({ ...job, attempts: -1 }), 'invalid_argument');
        expect(await store.get({ scopeId: scope, jobId: job.id })).toEqual(job);
      });
    });

    describe('list', () => {
      async function seed(): Promise<JobRecord[]> {
        const specs: Partial<JobRecord>[] = [
          { id: 'j-b', createdAt: 1000, sessionId: 's1', status: 'queued' },
          { id: 'j-a', createdAt: 1000, sessionId: 's2', status: 'running', parentJobId: 'p1' },
          { id: 'j-c', createdAt: 3000, sessionId: 's1', status: 'completed' },
          { id: 'j-d', createdAt: 2000, sessionId: 's1', status: 'failed', parentJobId: 'p1' },
          { id: 'j-e', createdAt: 4000, status: 'queued' },
        ];
        const jobs: JobRecord[] = [];
        for (const s of specs) {
          const at = s.createdAt as number;
          jobs.push((await store.create(makeTestJobRecord({ scopeId: scope, ...s, updatedAt: at, stateHistory: [{ status: 'queued', at }] }))).job);
        }
        return jobs;
      }
      const ids = (jobs: readonly JobRecord[]): string[] => jobs.map((j) => j.id);

      it('orders by createdAt then id, both ways', async () => {
        await seed();
        expect(ids((await store.list({ scopeId: scope })).jobs)).toEqual(['j-a', 'j-b', 'j-d', 'j-c', 'j-e']);
        expect(ids((await store.list({ scopeId: scope, order: 'desc' })).jobs)).toEqual(['j-e', 'j-c', 'j-d', 'j-b', 'j-a']);
      });

      it('pages with a cursor, without gaps or duplicates', async () => {
        await seed();
        for (const order of ['asc', 'desc'] as const) {
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.list({ scopeId: scope, limit: 2, cursor, order });
            seen.push(...ids(page.jobs));
            cursor = page.nextCursor;
            pages++;
          } while (cursor !== undefined && pages < 10);
          expect(seen).toEqual(ids((await store.list({ scopeId: scope, order })).jobs));
        }
      });

      it('filters by session, status and parent, also across pages', async () => {
        await seed();
        expect(ids((await store.list({ scopeId: scope, sessionId: 's1' })).jobs)).toEqual(['j-b', 'j-d', 'j-c']);
        expect(ids((await store.list({ scopeId: scope, status: ['queued', 'failed'] })).jobs)).toEqual(['j-b', 'j-d', 'j-e']);
        expect(ids((await store.list({ scopeId: scope, parentJobId: 'p1' })).jobs)).toEqual(['j-a', 'j-d']);
        const first = await store.list({ scopeId: scope, sessionId: 's1', limit: 2 });
        expect(ids(first.jobs)).toEqual(['j-b', 'j-d']);
        const second = await store.list({ scopeId: scope, sessionId: 's1', limit: 2, cursor: first.nextCursor });
        expect(ids(second.jobs)).toEqual(['j-c']);
        expect(second.nextCursor).toBeUndefined();
      });

      it('rejects a bad cursor or limit', async () => {
        await rejects(store.list({ scopeId: scope, cursor: 'not-a-cursor' }), 'invalid_argument');
        await rejects(store.list({ scopeId: scope, limit: 0 }), 'invalid_argument');
        await rejects(store.list({ scopeId: scope, limit: 1.5 }), 'invalid_argument');
      });
    });

    describe('corrupt records', () => {
      it('names the job and the issue when a stored job does not parse', async () => {
        const job = makeTestJobRecord({ scopeId: scope });
        await store.create(job);
        await h.corrupt({ scopeId: scope, jobId: job.id, raw: { ...job, attempts: 'many' } });
        const error = await rejects(store.get({ scopeId: scope, jobId: job.id }), 'corrupt_record');
        expect(error).toBeInstanceOf(CorruptRecordError);
        expect((error as CorruptRecordError).recordId).toBe(job.id);
        expect(error.message).toContain(job.id);
        expect(error.message).toContain('attempts');
        await rejects(store.list({ scopeId: scope }), 'corrupt_record');
      });

      it('refuses a record with an unknown schema version', async () => {
        const job = makeTestJobRecord({ scopeId: scope });
        await store.create(job);
        await h.corrupt({ scopeId: scope, jobId: job.id, raw: { ...job, schemaVersion: 99 } });
        const error = await rejects(store.get({ scopeId: scope, jobId: job.id }), 'corrupt_record');
        expect((error as CorruptRecordError).schemaVersion).toBe(99);
        expect(error.message).toContain('schema version');
      });
    });

    describe('createWithEvents and updateWithEvents', () => {
      const event = (job: JobRecord, type: 'job.created' | 'job.started'): RuntimeEventInput =>
        ({ type, jobId: job.id, scopeId: job.scopeId, data: type === 'job.created' ? { status: 'queued', priority: 'normal', principalId: job.principalId } : { from: 'queued', attempt: 1 } }) as RuntimeEventInput;

      it('publishes the events with a created job, and none when the idempotency key found an existing one', async () => {
        const bus = h.bus ?? new InMemoryEventBus();
        const key = unique('key');
        const job = makeTestJobRecord({ scopeId: scope, idempotencyKey: key });
        const first = await store.createWithEvents(job, { bus, events: [event(job, 'job.created')] });
        expect(first.created).toBe(true);
        expect(first.events.map((e) => [e.type, e.seq])).toEqual([['job.created', 1]]);
        const again = makeTestJobRecord({ scopeId: scope, idempotencyKey: key });
        const second = await store.createWithEvents(again, { bus, events: [event(again, 'job.created')] });
        expect(second.created).toBe(false);
        expect(second.job.id).toBe(job.id);
        expect(second.events).toEqual([]);
        expect(await bus.replay({ jobId: again.id, scopeId: scope })).toEqual([]);
        expect((await bus.replay({ jobId: job.id, scopeId: scope })).map((e) => e.type)).toEqual(['job.created']);
      });

      it('publishes the events with a successful update, and none when the write loses its race', async () => {
        const bus = h.bus ?? new InMemoryEventBus();
        const { job } = await store.create(makeTestJobRecord({ scopeId: scope }));
        const running = await store.updateWithEvents({ ...job, status: 'running' }, { bus, events: [event(job, 'job.started')] });
        expect(running.job).toMatchObject({ status: 'running', version: 2 });
        expect(running.events.map((e) => [e.type, e.seq])).toEqual([['job.started', 1]]);
        const stale = store.updateWithEvents({ ...job, status: 'cancelled' }, { bus, events: [event(job, 'job.started')] });
        await expect(stale).rejects.toBeInstanceOf(ConcurrentModificationError);
        expect((await bus.replay({ jobId: job.id, scopeId: scope })).map((e) => e.seq)).toEqual([1]);
        expect((await store.get({ jobId: job.id, scopeId: scope }))?.status).toBe('running');
      });
    });
  });
}
