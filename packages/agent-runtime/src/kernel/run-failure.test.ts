import { describe, expect, it } from 'vitest';
import { BatonError } from '@baton/llm-client';
import { InMemoryJobQueue } from '../jobs/in-memory-job-queue.js';
import { InMemoryJobStore } from '../jobs/in-memory-job-store.js';
import type { JobRecord } from '../jobs/job-record.js';
import { InMemoryJournalStore } from '../journal/in-memory-journal-store.js';
import type { JournalLoad } from '../ports/journal-store.js';
import type { JobRef } from '../jobs/job-record.js';
import { RuntimeKernel } from './runtime-kernel.js';
import { memoryStores } from './kernel.test.helpers.js';
import type { Workflow } from './job-runner.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { RuntimeStores } from './runtime-kernel.js';

const scope = { scopeId: 'tenant-a', principalId: 'alice' };

class UnavailableError extends BatonError {
  readonly code = 'store_unavailable';
  constructor() {
    super({ message: 'journal store unreachable', retryable: true });
  }
}

/** A journal store whose next `failing` reads fail. */
class FailingReads extends InMemoryJournalStore {
  failing = 0;
  override load(ref: JobRef): Promise<JournalLoad> {
    if (this.failing > 0) {
      this.failing--;
      return Promise.reject(new UnavailableError());
    }
    return super.load(ref);
  }
}

/** A job store whose next write to a job with status `failOn` fails, once; and its next read of `failGet`. */
class FailingWrite extends InMemoryJobStore {
  failOn: JobRecord['status'] | undefined;
  failGet: string | undefined;
  override get(ref: JobRef): Promise<JobRecord | undefined> {
    if (ref.jobId !== this.failGet) return super.get(ref);
    this.failGet = undefined;
    return Promise.reject(new UnavailableError());
  }
  override update(job: JobRecord): Promise<JobRecord> {
    return this.#fail(job) ?? super.update(job);
  }
  override updateWithEvents(job: JobRecord, outbox: Parameters<InMemoryJobStore['updateWithEvents']>[1]) {
    return this.#fail(job) ?? super.updateWithEvents(job, outbox);
  }
  #fail(job: JobRecord): Promise<never> | undefined {
    if (this.failOn === undefined || job.status !== this.failOn) return undefined;
    this.failOn = undefined;
    return Promise.reject(new UnavailableError());
  }
}

/** A kernel running `approve` (a step, then a wait for an approval) on `stores`, and what it saw. */
function approvals(stores: RuntimeStores, queue?: JobQueue) {
  const seen = { planned: 0, token: '', errors: [] as unknown[] };
  const approve: Workflow = async (ctx) => {
    await ctx.step('plan', () => ++seen.planned);
    return (await ctx.waitForAction({ type: 'approval', title: 'Ship?' })).status;
  };
  const kernel = RuntimeKernel.create({ stores, queue, workflows: { approve }, onActionRequired: (info) => (seen.token = info.resumeToken), onError: (e) => seen.errors.push(e) });
  return { kernel, seen };
}

// A run that cannot go on before its first step (its journal unreadable) does not leave the job
// running with no run behind it: in place it records the job failed with the error; a worker
// hands the job back, and it runs again a moment later.
describe('a run failing outside its steps', () => {
  for (const onWorker of [false, true]) {
    it(onWorker ? 'on a worker, hands the job back when its journal cannot be read on resume: it resumes later' : 'fails the job with the error when its journal cannot be read on resume', async () => {
      const journal = new FailingReads();
      const stores = { ...memoryStores(), journal };
      const queue = onWorker ? new InMemoryJobQueue() : undefined;
      const { kernel, seen } = approvals(stores, queue);
      if (onWorker) await kernel.startWorker({ concurrency: 1, pollMs: 5 });
      const handle = await kernel.execute({ ...scope, workflow: 'approve', input: null });
      expect((await handle.settled()).status).toBe('waiting_for_action');
      journal.failing = 1;
      await kernel.resume(seen.token, { approved: true }, { scopeId: scope.scopeId, principalId: 'bob' });
      if (onWorker) {
        expect((await handle.result()).output).toBe('resolved');
        expect(await queue!.get({ jobId: handle.jobId, scopeId: scope.scopeId })).toBeUndefined();
      } else {
        await expect(handle.result()).rejects.toMatchObject({ code: 'job_failed', errorCode: 'store_unavailable' });
        expect(await kernel.getJob(handle.jobId, scope.scopeId)).toMatchObject({ status: 'failed', error: { code: 'store_unavailable' } });
      }
      expect(seen.planned).toBe(1);
      expect(seen.errors).toEqual([expect.objectContaining({ code: 'store_unavailable' })]);
      await kernel.close();
    });
  }
});

// A worker whose claimed job's start or resume cannot be written (the store failing a moment)
// hands the job back to the queue: it runs later, rather than being acked off the queue unrun.
describe('a worker failing to start or resume a claimed job', () => {
  it('hands it back: the job starts, pauses and resumes later, each step once', async () => {
    const jobs = new FailingWrite();
    const stores = { ...memoryStores(), jobs };
    const queue = new InMemoryJobQueue();
    const { kernel, seen } = approvals(stores, queue);
    await kernel.startWorker({ concurrency: 1, pollMs: 5 });
    jobs.failOn = 'running'; // the start
    const handle = await kernel.execute({ ...scope, workflow: 'approve', input: null });
    await expect.poll(async () => (await kernel.getJob(handle.jobId, scope.scopeId))?.status, { timeout: 3000 }).toBe('waiting_for_action');
    jobs.failOn = 'running'; // the resume
    await kernel.resume(seen.token, { approved: true }, { scopeId: scope.scopeId, principalId: 'bob' });
    expect((await handle.result()).output).toBe('resolved');
    expect(seen.planned).toBe(1);
    expect(seen.errors).toHaveLength(2);
    expect(seen.errors).toEqual([expect.objectContaining({ code: 'store_unavailable' }), expect.objectContaining({ code: 'store_unavailable' })]);
    await kernel.close();
  });
});

describe('a worker failing to read a claimed job', () => {
  it('offers it again shortly and still starts the other jobs it claimed with it', async () => {
    const jobs = new FailingWrite();
    const stores = { ...memoryStores(), jobs };
    const queue = new InMemoryJobQueue();
    const finished: string[] = [];
    const wf: Workflow = async (ctx) => ctx.step('work', () => void finished.push(ctx.jobId));
    const client = RuntimeKernel.create({ stores, queue, workflows: { wf }, hostId: 'client' });
    const a = await client.execute({ ...scope, workflow: 'wf', input: 'a' });
    const b = await client.execute({ ...scope, workflow: 'wf', input: 'b' });
    jobs.failGet = a.jobId;
    const errors: unknown[] = [];
    const worker = RuntimeKernel.create({ stores, queue, workflows: { wf }, hostId: 'worker', onError: (e) => errors.push(e) });
    await worker.startWorker({ concurrency: 2, pollMs: 5 });
    await Promise.all([a.result(), b.result()]);
    // b, claimed with a, ran at once; a after its retry delay.
    expect(finished).toEqual([b.jobId, a.jobId]);
    expect(errors).toEqual([expect.objectContaining({ code: 'store_unavailable' })]);
    await worker.close();
  });
});
