import { BatonError } from '@baton/llm-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../errors/store-errors.js';
import type { JobPriority } from '../jobs/job-priority.js';
import type { ClaimedJob, JobQueue } from '../ports/job-queue.js';

/** What the queue suite hands a backend: the clock it must use and the dead-letter bound. */
export interface JobQueueContractContext {
  /** Epoch milliseconds; the suite moves it forward to expire leases. */
  readonly now: () => number;
  /** The backend must dead-letter a job instead of claiming it a `maxClaims + 1`th time. */
  readonly maxClaims: number;
}

export interface JobQueueContractHarness {
  readonly queue: JobQueue;
  readonly cleanup?: (() => Promise<void> | void) | undefined;
}

export type JobQueueContractInit = (context: JobQueueContractContext) => Promise<JobQueueContractHarness> | JobQueueContractHarness;

let counter = 0;
const unique = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

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
 * The behaviour every `JobQueue` must have: priority-then-age claims, per-scope limits,
 * leases with heartbeats, expiry and re-claim under a higher epoch, fencing of stale lease
 * holders, nack with delay, release, dead-lettering of poison jobs and scope isolation.
 * Each test uses fresh scope ids; claims should only see the test's own scopes, so a backend
 * shared between tests must be emptied by `cleanup` (or be a fresh instance per test).
 */
export function describeJobQueueContract(init: JobQueueContractInit, options: { name?: string } = {}): void {
  describe(options.name ?? 'JobQueue contract', () => {
    const maxClaims = 3;
    const leaseMs = 1_000;
    let time = 0;
    let h: JobQueueContractHarness;
    let queue: JobQueue;
    let scopeId: string;
    const advance = (ms: number): void => {
      time += ms;
    };
    const claim = async (workerId = 'w1', extra: { limit?: number; perScopeLimit?: number; leaseMs?: number } = {}) =>
      queue.claim({ workerId, leaseMs, ...extra });
    const enqueue = (jobId: string, priority?: JobPriority, over: { scopeId?: string; availableAt?: number } = {}) =>
      queue.enqueue({ jobId, scopeId, priority, ...over });

    beforeEach(async () => {
      time = 1_700_000_000_000;
      h = await init({ now: () => time, maxClaims });
      queue = h.queue;
      scopeId = unique('scope');
    });
    afterEach(async () => {
      await h.cleanup?.();
    });

    it('claims a job once, under a lease with epoch 1', async () => {
      await enqueue('a');
      const { jobs } = await claim('w1');
      expect(jobs).toEqual([{ jobId: 'a', scopeId, workerId: 'w1', epoch: 1, priority: 'normal', leaseExpiresAt: time + leaseMs, claims: 1 }]);
      expect((await claim('w2')).jobs).toEqual([]);
      expect(await queue.get({ scopeId, jobId: 'a' })).toMatchObject({ state: 'leased', workerId: 'w1', epoch: 1, claims: 1 });
    });

    it('claims by priority, then age', async () => {
      const order: [string, JobPriority][] = [['low-1', 'low'], ['normal-1', 'normal'], ['critical-1', 'critical'], ['high-1', 'high'], ['normal-2', 'normal'], ['critical-2', 'critical']];
      for (const [id, priority] of order) {
        await enqueue(id, priority);
        advance(1);
      }
      const { jobs } = await claim('w1', { limit: 10 });
      expect(jobs.map((j) => j.jobId)).toEqual(['critical-1', 'critical-2', 'high-1', 'normal-1', 'normal-2', 'low-1']);
    });

    it('holds a delayed job until it is available', async () => {
      await enqueue('later', 'critical', { availableAt: time + 500 });
      await enqueue('now', 'low');
      expect((await claim('w1', { limit: 5 })).jobs.map((j) => j.jobId)).toEqual(['now']);
      advance(500);
      expect((await claim('w1', { limit: 5 })).jobs.map((j) => j.jobId)).toEqual(['later']);
    });

    it('keeps a scope within its concurrency limit across workers', async () => {
      const other = unique('scope');
      for (const id of ['a1', 'a2', 'a3']) await enqueue(id);
      await enqueue('b1', 'low', { scopeId: other });
      const first = await claim('w1', { limit: 10, perScopeLimit: 2 });
      expect(first.jobs.map((j) => j.jobId)).toEqual(['a1', 'a2', 'b1']);
      expect((await claim('w2', { limit: 10, perScopeLimit: 2 })).jobs).toEqual([]);
      const a1 = first.jobs[0] as ClaimedJob;
      await queue.ack(a1);
      expect((await claim('w2', { limit: 10, perScopeLimit: 2 })).jobs.map((j) => j.jobId)).toEqual(['a3']);
    });

    it('never hands one job to two concurrent claimers', async () => {
      for (let i = 0; i < 6; i++) await enqueue(`j${i}`);
      const results = await Promise.all(['w1', 'w2', 'w3'].map((w) => claim(w, { limit: 4 })));
      const ids = results.flatMap((r) => r.jobs.map((j) => j.jobId));
      expect(ids).toHaveLength(6);
      expect(new Set(ids).size).toBe(6);
    });

    it('extends a lease with heartbeats', async () => {
      await enqueue('a');
      const [lease] = (await claim()).jobs as [ClaimedJob];
      advance(800);
      expect(await queue.heartbeat(lease)).toEqual({ leaseExpiresAt: time + leaseMs });
      advance(800);
      expect((await claim('w2')).jobs).toEqual([]);
      expect((await queue.heartbeat({ ...lease, leaseMs: 5_000 })).leaseExpiresAt).toBe(time + 5_000);
    });

    it('makes an expired lease claimable again with a higher epoch, and fences the old holder', async () => {
      await enqueue('a');
      const [old] = (await claim('w1')).jobs as [ClaimedJob];
      advance(leaseMs);
      const lost = await rejects(queue.heartbeat(old), 'lease_lost');
      expect(lost).toBeInstanceOf(LeaseLostError);
      const [next] = (await claim('w2')).jobs as [ClaimedJob];
      expect(next).toMatchObject({ jobId: 'a', workerId: 'w2', epoch: 2, claims: 2 });
      await rejects(queue.heartbeat(old), 'lease_lost');
      await rejects(queue.ack(old), 'lease_lost');
      await rejects(queue.nack(old), 'lease_lost');
      await rejects(queue.release(old), 'lease_lost');
      await rejects(queue.heartbeat({ ...next, workerId: 'w1' }), 'lease_lost');
      await queue.ack(next);
      expect(await queue.get({ scopeId, jobId: 'a' })).toBeUndefined();
    });

    it('retries a nacked job after its delay', async () => {
      await enqueue('a');
      const [lease] = (await claim()).jobs as [ClaimedJob];
      expect(await queue.nack({ ...lease, retryDelayMs: 200, reason: 'model 529' })).toEqual({ status: 'retry_scheduled', availableAt: time + 200 });
      expect((await claim()).jobs).toEqual([]);
      advance(200);
      const [again] = (await claim()).jobs as [ClaimedJob];
      expect(again).toMatchObject({ epoch: 2, claims: 2 });
      expect(await queue.get({ scopeId, jobId: 'a' })).toMatchObject({ lastFailure: 'model 529' });
    });

    it('does not count released claims', async () => {
      await enqueue('a');
      for (let i = 0; i < maxClaims + 2; i++) {
        const { jobs, deadLettered } = await claim();
        expect(deadLettered).toEqual([]);
        await queue.release(jobs[0] as ClaimedJob);
      }
      const { jobs } = await claim();
      expect(jobs[0]).toMatchObject({ jobId: 'a', epoch: maxClaims + 3, claims: 1 });
    });

    it('dead-letters a job claimed maxClaims times without an ack, with the reason, and serves the others', async () => {
      await enqueue('poison', 'critical');
      for (let i = 1; i <= maxClaims; i++) {
        const { jobs } = await claim();
        expect(jobs.map((j) => [j.jobId, j.claims])).toEqual([['poison', i]]);
        advance(leaseMs); // the worker died: its lease runs out
      }
      await enqueue('healthy', 'low');
      const { jobs, deadLettered } = await claim('w1', { limit: 5 });
      expect(jobs.map((j) => j.jobId)).toEqual(['healthy']);
      expect(deadLettered).toEqual([expect.objectContaining({ jobId: 'poison', scopeId, claims: maxClaims, at: time })]);
      expect(deadLettered[0]?.reason).toMatch(/lease expired/);
      expect(await queue.listDeadLettered({ scopeId })).toEqual(deadLettered);
      expect(await queue.get({ scopeId, jobId: 'poison' })).toMatchObject({ state: 'dead_lettered' });
      expect((await claim('w2', { limit: 5 })).deadLettered).toEqual([]);
    });

    it('dead-letters at once a job nacked on its last claim', async () => {
      await enqueue('a');
      for (let i = 1; i < maxClaims; i++) await queue.nack({ ...((await claim()).jobs[0] as ClaimedJob), reason: 'bad' });
      const last = (await claim()).jobs[0] as ClaimedJob;
      const result = await queue.nack({ ...last, reason: 'still bad' });
      expect(result.status).toBe('dead_lettered');
      expect(result.status === 'dead_lettered' && result.deadLettered.reason).toMatch(/still bad/);
      expect((await claim()).jobs).toEqual([]);
      await enqueue('a');
      expect((await claim()).jobs[0]).toMatchObject({ jobId: 'a', claims: 1, epoch: maxClaims + 1 });
    });

    it('re-queues a job enqueued while leased when its holder acks, with a higher epoch', async () => {
      await enqueue('a');
      const first = (await claim()).jobs[0] as ClaimedJob;
      await enqueue('a', 'high');
      expect((await claim('w2')).jobs).toEqual([]);
      await queue.ack(first);
      const second = (await claim('w2')).jobs[0] as ClaimedJob;
      expect(second).toMatchObject({ jobId: 'a', priority: 'high', epoch: 2 });
    });

    it('keeps epochs growing across ack and a later enqueue', async () => {
      await enqueue('a');
      await queue.ack((await claim()).jobs[0] as ClaimedJob);
      expect(await queue.get({ scopeId, jobId: 'a' })).toBeUndefined();
      await enqueue('a');
      expect((await claim()).jobs[0]).toMatchObject({ epoch: 2, claims: 1 });
    });

    it('keeps one entry per job when enqueued twice', async () => {
      await enqueue('a', 'low');
      await enqueue('a', 'critical');
      const { jobs } = await claim('w1', { limit: 5 });
      expect(jobs.map((j) => [j.jobId, j.priority])).toEqual([['a', 'critical']]);
    });

    it('removes a job whatever its state', async () => {
      await enqueue('a');
      const lease = (await claim()).jobs[0] as ClaimedJob;
      expect(await queue.remove({ scopeId, jobId: 'a' })).toBe(true);
      await rejects(queue.heartbeat(lease), 'lease_lost');
      expect(await queue.remove({ scopeId, jobId: 'a' })).toBe(false);
    });

    it('keeps scopes apart', async () => {
      const other = unique('scope');
      await enqueue('same-id', 'normal');
      await enqueue('same-id', 'high', { scopeId: other });
      const { jobs } = await claim('w1', { limit: 5 });
      expect(jobs.map((j) => [j.scopeId, j.priority])).toEqual([[other, 'high'], [scopeId, 'normal']]);
      await rejects(queue.ack({ ...(jobs[0] as ClaimedJob), scopeId: unique('scope') }), 'lease_lost');
      expect(await queue.get({ scopeId: unique('scope'), jobId: 'same-id' })).toBeUndefined();
      expect(await queue.listDeadLettered({ scopeId: other })).toEqual([]);
    });

    it('rejects invalid options at once', async () => {
      await rejects(queue.claim({ workerId: '', leaseMs }), 'invalid_argument');
      await rejects(queue.claim({ workerId: 'w', leaseMs: 0 }), 'invalid_argument');
      await rejects(queue.claim({ workerId: 'w', leaseMs, limit: 0 }), 'invalid_argument');
      await rejects(queue.enqueue({ scopeId, jobId: 'a', priority: 'urgent' as never }), 'invalid_argument');
      await rejects(queue.enqueue({ scopeId: '', jobId: 'a' }), 'invalid_argument');
    });
  });
}
