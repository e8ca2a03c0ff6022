import type { JobPriority } from '../jobs/job-priority.js';
import type { JobRecord, JobRef } from '../jobs/job-record.js';
import type { RuntimeEvent } from '../events/runtime-event.js';
import { publishOutbox, type EventOutbox } from './event-bus.js';
import type { ActionStore, ResumeReads } from './action-store.js';
import type { CreateJobResult, JobStore } from './job-store.js';
import type { JournalStore } from './journal-store.js';
import type { Signal, SignalChannel } from './signal-channel.js';

export interface EnqueueOptions extends JobRef {
  /** Default `normal`. */
  readonly priority?: JobPriority | undefined;
  /** Epoch milliseconds before which the job is not claimable (a delayed job); default now. */
  readonly availableAt?: number | undefined;
}

export interface ClaimOptions {
  readonly workerId: string;
  /** How long the lease lasts unless a heartbeat extends it. */
  readonly leaseMs: number;
  /** Most jobs to claim in this call; default 1. */
  readonly limit?: number | undefined;
  /** Most jobs of one scope leased at once, across all workers: one tenant cannot starve the others. */
  readonly perScopeLimit?: number | undefined;
  /**
   * The stores the worker runs jobs on. Where the queue shares transactions with them, a claimed
   * job that waits for an action (its resume) comes with its journal and actions, read by the
   * claim (`ClaimedJob.reads`); by default, and otherwise, the worker reads them itself.
   */
  readonly reads?: { readonly journal: JournalStore; readonly actions: ActionStore } | undefined;
}

/** Identifies a lease: operations on it fail with `LeaseLostError` once it is no longer current. */
export interface LeaseRef extends JobRef {
  readonly workerId: string;
  readonly epoch: number;
}

/** A job a worker claimed. `epoch` is the fencing token for its journal writes. */
export interface ClaimedJob extends LeaseRef {
  readonly priority: JobPriority;
  readonly leaseExpiresAt: number;
  /** How many times the job has been claimed, this claim included. */
  readonly claims: number;
  /**
   * The job's record as the claim read it, when the queue lives with the job store (one read
   * less for the worker); absent, the worker reads the job itself.
   */
  readonly job?: JobRecord | undefined;
  /**
   * The job's journal and actions as the claim read them, when it waits for an action and the
   * claim was asked for them (`ClaimOptions.reads`) on stores it shares transactions with.
   */
  readonly reads?: ResumeReads | undefined;
}

/** A job that was claimed `maxClaims` times without being acked: poison, set aside. */
export interface DeadLetteredJob extends JobRef {
  readonly priority: JobPriority;
  readonly claims: number;
  readonly reason: string;
  /** Epoch milliseconds. */
  readonly at: number;
}

export interface ClaimResult {
  readonly jobs: readonly ClaimedJob[];
  /**
   * Jobs this call moved to the dead letter instead of claiming. The caller marks them
   * `dead_lettered` in the job store (they also stay listed by `listDeadLettered`).
   */
  readonly deadLettered: readonly DeadLetteredJob[];
}

export type NackResult =
  | { readonly status: 'retry_scheduled'; readonly availableAt: number }
  | { readonly status: 'dead_lettered'; readonly deadLettered: DeadLetteredJob };

/** A queue entry as it stands (for operators and tests). */
export interface QueueEntry extends JobRef {
  readonly priority: JobPriority;
  readonly state: 'ready' | 'leased' | 'dead_lettered';
  readonly enqueuedAt: number;
  readonly availableAt: number;
  readonly claims: number;
  /** The last epoch handed out (0 = never claimed). */
  readonly epoch: number;
  readonly workerId?: string | undefined;
  readonly leaseExpiresAt?: number | undefined;
  /** Why the last attempt ended without an ack (a nack reason, "lease expired"). */
  readonly lastFailure?: string | undefined;
  readonly deadLetterReason?: string | undefined;
}

/**
 * Work distribution for workers. A claim leases a job to one worker until `leaseExpiresAt`;
 * a heartbeat extends it; a lease that runs out makes the job claimable again with a higher
 * epoch (the old holder's writes are then refused by fencing). Jobs are claimed by priority,
 * then age (`enqueuedAt`), within a per-scope limit. A job claimed `maxClaims` times without
 * an ack is dead-lettered with the reason.
 *
 * Epochs of a job only grow, also across ack and a later enqueue (a job that waited for an
 * action comes back with a higher epoch than before).
 *
 * An abstract class so that methods added later can ship with a default implementation.
 */
export abstract class JobQueue {
  /**
   * Makes the job claimable. Enqueuing a job that is already ready updates its priority and
   * availability; one that is leased is re-queued when its holder acks (the holder's ack does
   * not lose it); a dead-lettered one is given a fresh start (claims reset to 0).
   */
  abstract enqueue(options: EnqueueOptions): Promise<void>;

  /**
   * `enqueue`, then `signal` on `channels` to wake workers, after the `outbox`'s events (which a
   * woken worker's writes must follow): a queue that shares a database with the signal channel
   * (and the bus) writes all of it in one statement, the signal delivered once the job is
   * claimable; the default publishes, enqueues, then signals. A failed signal is reported to
   * `onSignalError` (workers also poll), never thrown once the job is enqueued.
   */
  async enqueueAndSignal(
    options: EnqueueOptions,
    wake: { channels: SignalChannel; channel: string; signal: Signal; onSignalError?: ((error: unknown) => void) | undefined },
    outbox?: EventOutbox | undefined,
  ): Promise<void> {
    // Events that must precede whatever a woken worker writes (an `action.resolved`): first.
    await publishOutbox(outbox);
    await this.enqueue(options);
    await wake.channels.publish(wake.channel, wake.signal).catch((error: unknown) => wake.onSignalError?.(error));
  }

  /**
   * A new job created (`JobStore.createWithEvents` on `create.store`, with the outbox's events)
   * and put on this queue with the workers' wake-up, as `enqueueAndSignal` does: where this queue
   * shares transactions with the job store (and its signals and bus), one write — the job is
   * enqueued only if it was created. A job that already existed with the idempotency key comes
   * back with `created: false` and is not enqueued again. The default creates, then enqueues.
   */
  async enqueueNewJob(
    create: { store: JobStore; job: JobRecord; outbox?: EventOutbox | undefined },
    wake: { channels: SignalChannel; channel: string; signal: Signal; onSignalError?: ((error: unknown) => void) | undefined },
  ): Promise<CreateJobResult> {
    const result = create.outbox ? await create.store.createWithEvents(create.job, create.outbox) : await create.store.create(create.job);
    if (result.created) await this.enqueueAndSignal({ jobId: result.job.id, scopeId: result.job.scopeId, priority: result.job.priority }, wake);
    return { job: result.job, created: result.created };
  }

  abstract claim(options: ClaimOptions): Promise<ClaimResult>;

  /** Extends the lease by `leaseMs` (default: the claim's) from now. A lost lease → `LeaseLostError`. */
  abstract heartbeat(lease: LeaseRef & { leaseMs?: number | undefined }): Promise<{ leaseExpiresAt: number }>;

  /** Done with the job (finished, or parked waiting for an action): it leaves the queue. */
  abstract ack(lease: LeaseRef): Promise<void>;

  /**
   * The attempt failed: the job is claimable again after `retryDelayMs` (default 0), or, when it
   * has used its `maxClaims`, dead-lettered now with `reason`.
   */
  abstract nack(lease: LeaseRef & { retryDelayMs?: number | undefined; reason?: string | undefined }): Promise<NackResult>;

  /**
   * A run's last change of its job (its completion) written with the `ack` of the run's lease:
   * where this queue shares transactions with `update.store` (and its bus), one write, and the job
   * is written only while the lease holds — else `LeaseLostError` and nothing written. The default
   * writes the job (`updateWithEvents` with an outbox), then acks (a lease lost by then surfaces
   * as the ack's `LeaseLostError`, the job written).
   */
  async ackWithJobUpdate(lease: LeaseRef, update: { store: JobStore; job: JobRecord; outbox?: EventOutbox | undefined }): Promise<{ job: JobRecord; events: RuntimeEvent[] }> {
    const written = update.outbox ? await update.store.updateWithEvents(update.job, update.outbox) : { job: await update.store.update(update.job), events: [] };
    await this.ack(lease);
    return written;
  }

  /** Hands the job back without counting the claim (graceful shutdown). */
  abstract release(lease: LeaseRef & { delayMs?: number | undefined }): Promise<void>;

  /** Takes the job out of the queue whatever its state (e.g. cancelled). `false` when it was not there. */
  abstract remove(ref: JobRef): Promise<boolean>;

  abstract get(ref: JobRef): Promise<QueueEntry | undefined>;

  /** The scope's dead-lettered jobs, oldest first. */
  abstract listDeadLettered(options: { scopeId: string; limit?: number | undefined }): Promise<readonly DeadLetteredJob[]>;
}
