import { InvalidArgumentError } from '@baton/llm-client';
import { LeaseLostError } from '../errors/store-errors.js';
import {
  JobQueue,
  type ClaimOptions,
  type ClaimResult,
  type ClaimedJob,
  type DeadLetteredJob,
  type EnqueueOptions,
  type LeaseRef,
  type NackResult,
  type QueueEntry,
} from '../ports/job-queue.js';
import { JOB_PRIORITIES, jobPriorityRank, type JobPriority } from './job-priority.js';
import type { JobRef } from './job-record.js';

export interface InMemoryJobQueueOptions {
  /** Claims after which an unacked job is dead-lettered instead of claimed again. Default 5. */
  readonly maxClaims?: number | undefined;
  /** Epoch milliseconds; injectable for tests. */
  readonly now?: (() => number) | undefined;
}

interface Entry {
  readonly jobId: string;
  readonly scopeId: string;
  priority: JobPriority;
  state: 'ready' | 'leased' | 'dead_lettered';
  enqueuedAt: number;
  availableAt: number;
  /** Tie-break for equal priority and age: enqueue order. */
  order: number;
  claims: number;
  epoch: number;
  workerId: string | undefined;
  leaseMs: number;
  leaseExpiresAt: number | undefined;
  lastFailure: string | undefined;
  deadLetter: DeadLetteredJob | undefined;
  /** Enqueued again while leased: the holder's ack puts it back instead of removing it. */
  requeue: { priority: JobPriority; availableAt: number } | undefined;
}

const PRIORITIES: ReadonlySet<string> = new Set(JOB_PRIORITIES);

/**
 * `JobQueue` in process memory (single process: a worker pool sharing one instance). Expired
 * leases are reclaimed lazily, at the next claim. A job's last epoch is remembered after its
 * ack so that a later enqueue continues the fencing sequence; `remove` forgets it.
 */
export class InMemoryJobQueue extends JobQueue {
  readonly #entries = new Map<string, Entry>();
  /** Last epoch of jobs that left the queue by ack. */
  readonly #epochs = new Map<string, number>();
  readonly #maxClaims: number;
  readonly #now: () => number;
  #order = 0;

  constructor(options: InMemoryJobQueueOptions = {}) {
    super();
    this.#maxClaims = options.maxClaims ?? 5;
    if (!Number.isInteger(this.#maxClaims) || this.#maxClaims < 1) throw new InvalidArgumentError('maxClaims', 'must be a positive integer');
    this.#now = options.now ?? Date.now;
  }

  override async enqueue(options: EnqueueOptions): Promise<void> {
    const ref = checkRef(options);
    const priority = options.priority ?? 'normal';
    if (!PRIORITIES.has(priority)) throw new InvalidArgumentError('priority', `must be one of ${JOB_PRIORITIES.join(', ')}`);
    const now = this.#now();
    const availableAt = options.availableAt ?? now;
    if (!Number.isFinite(availableAt)) throw new InvalidArgumentError('availableAt', 'must be epoch milliseconds');
    const key = keyOf(ref);
    const entry = this.#entries.get(key);
    if (entry?.state === 'leased') {
      entry.requeue = { priority, availableAt };
      return;
    }
    if (entry?.state === 'ready') {
      entry.priority = priority;
      entry.availableAt = availableAt;
      return;
    }
    this.#entries.set(key, {
      jobId: ref.jobId,
      scopeId: ref.scopeId,
      priority,
      state: 'ready',
      enqueuedAt: now,
      availableAt,
      order: this.#order++,
      claims: 0,
      epoch: entry?.epoch ?? this.#epochs.get(key) ?? 0,
      workerId: undefined,
      leaseMs: 0,
      leaseExpiresAt: undefined,
      lastFailure: undefined,
      deadLetter: undefined,
      requeue: undefined,
    });
    this.#epochs.delete(key);
  }

  override async claim(options: ClaimOptions): Promise<ClaimResult> {
    if (typeof options?.workerId !== 'string' || options.workerId === '') throw new InvalidArgumentError('workerId', 'required');
    if (!Number.isFinite(options.leaseMs) || options.leaseMs <= 0) throw new InvalidArgumentError('leaseMs', 'must be a positive number');
    const limit = options.limit ?? 1;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', 'must be a positive integer');
    const perScope = options.perScopeLimit ?? Number.POSITIVE_INFINITY;
    if (perScope !== Number.POSITIVE_INFINITY && (!Number.isInteger(perScope) || perScope < 1)) {
      throw new InvalidArgumentError('perScopeLimit', 'must be a positive integer');
    }
    const now = this.#now();
    const leased = new Map<string, number>();
    const ready: Entry[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.state === 'leased' && (entry.leaseExpiresAt ?? 0) <= now) {
        entry.state = 'ready';
        entry.workerId = undefined;
        entry.leaseExpiresAt = undefined;
        entry.lastFailure = 'lease expired';
        if (entry.requeue) this.#applyRequeue(entry);
      }
      if (entry.state === 'leased') leased.set(entry.scopeId, (leased.get(entry.scopeId) ?? 0) + 1);
      else if (entry.state === 'ready' && entry.availableAt <= now) ready.push(entry);
    }
    ready.sort(byPriorityThenAge);
    const jobs: ClaimedJob[] = [];
    const deadLettered: DeadLetteredJob[] = [];
    for (const entry of ready) {
      if (jobs.length >= limit) break;
      if (entry.claims >= this.#maxClaims) {
        deadLettered.push(this.#deadLetter(entry, now));
        continue;
      }
      const inScope = leased.get(entry.scopeId) ?? 0;
      if (inScope >= perScope) continue;
      leased.set(entry.scopeId, inScope + 1);
      entry.state = 'leased';
      entry.claims++;
      entry.epoch++;
      entry.workerId = options.workerId;
      entry.leaseMs = options.leaseMs;
      entry.leaseExpiresAt = now + options.leaseMs;
      jobs.push(Object.freeze({
        jobId: entry.jobId,
        scopeId: entry.scopeId,
        workerId: options.workerId,
        epoch: entry.epoch,
        priority: entry.priority,
        leaseExpiresAt: entry.leaseExpiresAt,
        claims: entry.claims,
      }));
    }
    return { jobs, deadLettered };
  }

  override async heartbeat(lease: LeaseRef & { leaseMs?: number | undefined }): Promise<{ leaseExpiresAt: number }> {
    if (lease.leaseMs !== undefined && !(Number.isFinite(lease.leaseMs) && lease.leaseMs > 0)) throw new InvalidArgumentError('leaseMs', 'must be a positive number');
    const now = this.#now();
    const entry = this.#held(lease, now);
    entry.leaseExpiresAt = now + (lease.leaseMs ?? entry.leaseMs);
    return { leaseExpiresAt: entry.leaseExpiresAt };
  }

  override async ack(lease: LeaseRef): Promise<void> {
    const entry = this.#held(lease, this.#now());
    if (entry.requeue) {
      this.#applyRequeue(entry);
      entry.claims = 0;
      entry.enqueuedAt = this.#now();
      entry.order = this.#order++;
      this.#release(entry);
      return;
    }
    this.#entries.delete(keyOf(entry));
    this.#epochs.set(keyOf(entry), entry.epoch);
  }

  override async nack(lease: LeaseRef & { retryDelayMs?: number | undefined; reason?: string | undefined }): Promise<NackResult> {
    const delay = lease.retryDelayMs ?? 0;
    if (!Number.isFinite(delay) || delay < 0) throw new InvalidArgumentError('retryDelayMs', 'must be a number ≥ 0');
    const now = this.#now();
    const entry = this.#held(lease, now);
    entry.lastFailure = lease.reason ?? 'nacked';
    this.#release(entry);
    if (entry.claims >= this.#maxClaims) return { status: 'dead_lettered', deadLettered: this.#deadLetter(entry, now) };
    entry.availableAt = now + delay;
    if (entry.requeue) this.#applyRequeue(entry);
    return { status: 'retry_scheduled', availableAt: entry.availableAt };
  }

  override async release(lease: LeaseRef & { delayMs?: number | undefined }): Promise<void> {
    const delay = lease.delayMs ?? 0;
    if (!Number.isFinite(delay) || delay < 0) throw new InvalidArgumentError('delayMs', 'must be a number ≥ 0');
    const now = this.#now();
    const entry = this.#held(lease, now);
    entry.claims = Math.max(0, entry.claims - 1);
    this.#release(entry);
    entry.availableAt = now + delay;
    if (entry.requeue) this.#applyRequeue(entry);
  }

  override async remove(ref: JobRef): Promise<boolean> {
    const key = keyOf(checkRef(ref));
    const had = this.#entries.delete(key);
    return this.#epochs.delete(key) || had;
  }

  override async get(ref: JobRef): Promise<QueueEntry | undefined> {
    const e = this.#entries.get(keyOf(checkRef(ref)));
    if (!e) return undefined;
    return Object.freeze({
      jobId: e.jobId,
      scopeId: e.scopeId,
      priority: e.priority,
      state: e.state,
      enqueuedAt: e.enqueuedAt,
      availableAt: e.availableAt,
      claims: e.claims,
      epoch: e.epoch,
      workerId: e.workerId,
      leaseExpiresAt: e.leaseExpiresAt,
      lastFailure: e.lastFailure,
      deadLetterReason: e.deadLetter?.reason,
    });
  }

  override async listDeadLettered(options: { scopeId: string; limit?: number | undefined }): Promise<readonly DeadLetteredJob[]> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const out: DeadLetteredJob[] = [];
    for (const e of this.#entries.values()) if (e.scopeId === options.scopeId && e.deadLetter) out.push(e.deadLetter);
    return out.sort((a, b) => a.at - b.at).slice(0, limit);
  }

  /** The entry the lease still holds, or `LeaseLostError`. */
  #held(lease: LeaseRef, now: number): Entry {
    const ref = checkRef(lease);
    if (!Number.isInteger(lease.epoch)) throw new InvalidArgumentError('epoch', 'must be an integer');
    const entry = this.#entries.get(keyOf(ref));
    const lost = (reason: string, currentEpoch?: number): LeaseLostError =>
      new LeaseLostError({ jobId: ref.jobId, leaseEpoch: lease.epoch, workerId: lease.workerId, currentEpoch, reason });
    if (!entry) throw lost('the job is not in the queue');
    if (entry.state !== 'leased' || entry.epoch !== lease.epoch || entry.workerId !== lease.workerId) throw lost('the job was claimed again or released', entry.epoch);
    if ((entry.leaseExpiresAt ?? 0) <= now) throw lost('the lease expired', entry.epoch);
    return entry;
  }

  #release(entry: Entry): void {
    entry.state = 'ready';
    entry.workerId = undefined;
    entry.leaseExpiresAt = undefined;
  }

  #applyRequeue(entry: Entry): void {
    if (!entry.requeue) return;
    entry.priority = entry.requeue.priority;
    entry.availableAt = entry.requeue.availableAt;
    entry.requeue = undefined;
  }

  #deadLetter(entry: Entry, now: number): DeadLetteredJob {
    entry.state = 'dead_lettered';
    const reason = `claimed ${entry.claims} times without completing (maxClaims ${this.#maxClaims}); last: ${entry.lastFailure ?? 'unknown'}`;
    entry.deadLetter = Object.freeze({ jobId: entry.jobId, scopeId: entry.scopeId, priority: entry.priority, claims: entry.claims, reason, at: now });
    return entry.deadLetter;
  }
}

function keyOf(ref: JobRef): string {
  return `${ref.scopeId}\u0000${ref.jobId}`;
}

function checkRef<T extends JobRef>(ref: T): T {
  if (typeof ref?.jobId !== 'string' || ref.jobId === '') throw new InvalidArgumentError('jobId', 'required');
  if (typeof ref.scopeId !== 'string' || ref.scopeId === '') throw new InvalidArgumentError('scopeId', 'required');
  return ref;
}

function byPriorityThenAge(a: Entry, b: Entry): number {
  return jobPriorityRank(a.priority) - jobPriorityRank(b.priority) || a.enqueuedAt - b.enqueuedAt || a.order - b.order;
}
