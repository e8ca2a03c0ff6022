import { describe, expect, it, vi } from 'vitest';
import { InMemorySignalChannel } from '../actions/in-memory-signal-channel.js';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import { describeJobQueueContract } from '../testing/job-queue-contract.js';
import { makeTestJobRecord } from '../testing/job-store-contract.js';
import { InMemoryJobQueue } from './in-memory-job-queue.js';
import { InMemoryJobStore } from './in-memory-job-store.js';

describeJobQueueContract(({ now, maxClaims }) => ({ queue: new InMemoryJobQueue({ now, maxClaims }) }), { name: 'InMemoryJobQueue' });

describe('JobQueue.enqueueNewJob (the default: create, then enqueue)', () => {
  it('creates the job with its events and enqueues it with the wake-up; its idempotency key again returns the first job and enqueues nothing', async () => {
    const queue = new InMemoryJobQueue();
    const store = new InMemoryJobStore();
    const bus = new InMemoryEventBus();
    const signals = new InMemorySignalChannel();
    const woken: string[] = [];
    await signals.subscribe('jobs.enqueued', (signal) => void woken.push(signal.subjectId));
    const job = makeTestJobRecord({ scopeId: 's', status: 'queued', idempotencyKey: 'k' });
    const wake = { channels: signals, channel: 'jobs.enqueued', signal: { schemaVersion: 1 as const, kind: 'job.enqueued' as const, scopeId: 's', subjectId: job.id, at: 1 } };
    const outbox = { bus, events: [{ type: 'job.created', jobId: job.id, scopeId: 's', data: { status: 'queued', priority: 'normal', principalId: job.principalId } }] as RuntimeEventInput[] };
    expect(await queue.enqueueNewJob({ store, job, outbox }, wake)).toEqual({ job, created: true });
    expect(await queue.get({ scopeId: 's', jobId: job.id })).toMatchObject({ state: 'ready' });
    expect((await bus.replay({ scopeId: 's', jobId: job.id })).map((e) => e.type)).toEqual(['job.created']);
    await vi.waitFor(() => expect(woken).toEqual([job.id]));
    const again = await queue.enqueueNewJob({ store, job: { ...job, id: `${job.id}-2` }, outbox }, wake);
    expect(again).toEqual({ job, created: false });
    expect(await queue.get({ scopeId: 's', jobId: `${job.id}-2` })).toBeUndefined();
    expect((await bus.replay({ scopeId: 's', jobId: job.id })).map((e) => e.type)).toEqual(['job.created']);
  });
});
