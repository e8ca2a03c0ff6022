import { BatonError, InvalidArgumentError } from '@baton/llm-client';
import { IllegalTransitionError, JobNotFoundError } from '../errors/job-errors.js';
import { ConcurrentModificationError } from '../errors/store-errors.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import type { EventBus } from '../ports/event-bus.js';
import type { ActionRecord, ActionStore } from '../ports/action-store.js';
import type { CreateJobResult, JobPage, JobStore, ListJobsOptions } from '../ports/job-store.js';
import type { JobQueue, LeaseRef } from '../ports/job-queue.js';
import type { AppendJournalOptions, JournalStore } from '../ports/journal-store.js';
import type { JournalEntryInput } from '../journal/journal-entry.js';
import { JOB_RECORD_SCHEMA_VERSION, type JobRecord, type JobRef } from './job-record.js';
import { JobSpecSchema, type JobSpec } from './job-spec.js';
import { assertTransition, type JobStatus } from './job-status.js';
import { toFrozenJson, type JsonValue } from './json-value.js';
import { serializeError } from './serialized-error.js';

export interface JobManagerOptions {
  readonly store: JobStore;
  /** Where status changes are published; none = no events. */
  readonly events?: EventBus | undefined;
  /** Epoch milliseconds; injectable for tests. */
  readonly now?: (() => number) | undefined;
  readonly generateId?: (() => string) | undefined;
  /** How often a transition re-reads and retries after losing a compare-and-set race; default 5. */
  readonly maxConflictRetries?: number | undefined;
}

/** Every transition names its job and may say why; `expectedVersion` turns off the conflict retry. */
export interface TransitionOptions extends JobRef {
  readonly reason?: string | undefined;
  readonly expectedVersion?: number | undefined;
  /**
   * The record as the caller holds it (what the last transition returned): the change is
   * written against its version without reading the job first. When the stored job has moved
   * on, the transition reads it and retries as usual (or, with `expectedVersion`, fails).
   */
  readonly current?: JobRecord | undefined;
  /**
   * Events of the job to publish just before the transition's own `job.*` event, with the same
   * write (the job's last step events, an `action.resolved`): one transaction where the bus
   * shares the store's database. They are published only if the transition is written.
   */
  readonly events?: readonly RuntimeEventInput[] | undefined;
  /**
   * Actions created with the transition (a pause's requests), in the same write where the
   * action store shares transactions with the job store: they exist only if the transition is
   * written.
   */
  readonly actions?: { readonly store: ActionStore; readonly records: readonly ActionRecord[] } | undefined;
  /**
   * The lease of the worker's run that makes this change, acked with it (`JobQueue.ackWithJobUpdate`:
   * one write where the queue shares transactions with the job store; the job is written only
   * while the lease holds).
   */
  readonly ack?: { readonly queue: JobQueue; readonly lease: LeaseRef } | undefined;
  /**
   * Journal entries stored with the transition (a run's last steps with its completion or pause):
   * `JournalStore.appendManyWithJobUpdate` writes both at once where the journal shares
   * transactions with the job store; otherwise, or when that write did not pass, the entries are
   * appended first (once), then the transition is written as usual.
   */
  readonly journal?: { readonly store: JournalStore; readonly entries: readonly JournalEntryInput[]; readonly options: AppendJournalOptions } | undefined;
}

/**
 * Jobs' life cycle over a `JobStore`: each change is checked against the transition table
 * (`IllegalTransitionError`), appended to the job's `stateHistory`, written with
 * compare-and-set (re-read and re-checked when another writer got there first) and published
 * on the event bus as a `job.*` event.
 */
export class JobManager {
  readonly #store: JobStore;
  readonly #events: EventBus | undefined;
  readonly #now: () => number;
  readonly #generateId: () => string;
  readonly #maxRetries: number;
  /** `TransitionOptions.journal` riders already appended on their own. */
  readonly #appended = new WeakSet<object>();

  constructor(options: JobManagerOptions) {
    if (!options?.store) throw new InvalidArgumentError('store', 'a JobStore is required');
    const retries = options.maxConflictRetries ?? 5;
    if (!Number.isInteger(retries) || retries < 0) throw new InvalidArgumentError('maxConflictRetries', 'must be an integer ≥ 0');
    this.#store = options.store;
    this.#events = options.events;
    this.#now = options.now ?? Date.now;
    this.#generateId = options.generateId ?? (() => `job_${crypto.randomUUID()}`);
    this.#maxRetries = retries;
  }

  /**
   * Creates a queued job. Idempotent by scope + `idempotencyKey`: `created: false` returns the
   * first job. With `start`, the job is created already started (queued → running in the same
   * write, both in its history, `job.created` and `job.started` published): what a process that
   * runs the job itself at once does.
   */
  async create(spec: JobSpec, options: { start?: { reason?: string | undefined } | undefined } = {}): Promise<CreateJobResult> {
    const { job: record, events } = this.planCreate(spec, options);
    if (!this.#events) return this.#store.create(record);
    // The events go with the write: stored in the same transaction where the bus shares the store's database.
    const { events: _published, ...result } = await this.#store.createWithEvents(record, { bus: this.#events, events });
    return result;
  }

  /**
   * The new job and its events (`job.created`, and `job.started` with `options.start`) as `create`
   * builds them, checked, but not written: for a caller that writes them with more in one write
   * (`JobQueue.enqueueNewJob`). Invalid specs throw as `create` does.
   */
  planCreate(spec: JobSpec, options: { start?: { reason?: string | undefined } | undefined } = {}): { job: JobRecord; events: JobEventInput[] } {
    const parsed = JobSpecSchema.safeParse(spec);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidArgumentError(`spec${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, issue?.message ?? 'invalid job spec', parsed.error);
    }
    const s = parsed.data;
    const now = this.#now();
    const job: JobRecord = {
      schemaVersion: JOB_RECORD_SCHEMA_VERSION,
      id: s.jobId ?? this.#generateId(),
      scopeId: s.scopeId,
      principalId: s.principalId,
      sessionId: s.sessionId,
      parentJobId: s.parentJobId,
      idempotencyKey: s.idempotencyKey,
      priority: s.priority ?? 'normal',
      status: 'queued',
      input: toFrozenJson(s.input, 'spec.input'),
      budgets: s.budgets ?? {},
      policyRef: s.policyRef,
      metadata: s.metadata ?? {},
      attempts: 0,
      stateHistory: [{ status: 'queued', at: now }],
      createdAt: now,
      updatedAt: now,
      leaseEpoch: 0,
      version: 1,
    };
    const base = { jobId: job.id, scopeId: job.scopeId, sessionId: job.sessionId, traceId: traceOf(job), at: now };
    const events: JobEventInput[] = [
      { ...base, type: 'job.created', data: { status: job.status, priority: job.priority, principalId: job.principalId, parentJobId: job.parentJobId, idempotencyKey: job.idempotencyKey } },
    ];
    let record = job;
    if (options.start) {
      const reason = options.start.reason;
      record = { ...job, status: 'running', attempts: 1, stateHistory: [...job.stateHistory, reason === undefined ? { status: 'running', at: now } : { status: 'running', at: now, reason }] };
      events.push({ ...base, type: 'job.started', data: { from: 'queued', reason, attempt: 1 } });
    }
    return { job: record, events };
  }

  get(ref: JobRef): Promise<JobRecord | undefined> {
    return this.#store.get(ref);
  }

  list(options: ListJobsOptions): Promise<JobPage> {
    return this.#store.list(options);
  }

  /** queued → running (only from queued); counts an attempt and records the worker's lease when there is one. */
  start(options: TransitionOptions & { lease?: { owner: string; epoch: number; expiresAt: number } | undefined }): Promise<JobRecord> {
    const { lease } = options;
    return this.#transition(options, 'running', (job) => ({
      changes: { attempts: job.attempts + 1, leaseOwner: lease?.owner, leaseEpoch: lease ? Math.max(lease.epoch, job.leaseEpoch) : job.leaseEpoch, leaseExpiresAt: lease?.expiresAt },
      event: (j, from) => ({ type: 'job.started', data: { from, reason: options.reason, attempt: j.attempts, leaseOwner: lease?.owner, leaseEpoch: lease?.epoch } }),
    }), ['queued']);
  }

  /** running → waiting_for_action: the job holds no worker while it waits. */
  markWaiting(options: TransitionOptions & { actionId?: string | undefined }): Promise<JobRecord> {
    return this.#transition(options, 'waiting_for_action', () => ({
      changes: RELEASED,
      event: (_j, from) => ({ type: 'job.waiting', data: { from, reason: options.reason, actionId: options.actionId } }),
    }));
  }

  /** waiting_for_action → running, in the process that resumes it. */
  resume(options: TransitionOptions & { actionId?: string | undefined; lease?: { owner: string; epoch: number; expiresAt: number } | undefined }): Promise<JobRecord> {
    return this.#transition(options, 'running', RESUME_PLAN(options), ['waiting_for_action']);
  }

  /** Back to the queue (lease lost, shutdown, resolved action, operator redrive). */
  requeue(options: TransitionOptions): Promise<JobRecord> {
    return this.#transition(options, 'queued', () => ({
      changes: RELEASED,
      event: (_j, from) => ({ type: 'job.requeued', data: { from, reason: options.reason } }),
    }));
  }

  /** A newer message of the session took over; `byJobId` is the job that receives the partial results. */
  markInterrupted(options: TransitionOptions & { byJobId?: string | undefined; result?: JsonValue | undefined }): Promise<JobRecord> {
    return this.#transition(options, 'interrupted', () => ({
      changes: options.result === undefined ? RELEASED : { ...RELEASED, result: options.result },
      event: (_j, from) => ({ type: 'job.interrupted', data: { from, reason: options.reason, byJobId: options.byJobId } }),
    }));
  }

  complete(options: TransitionOptions & { result?: JsonValue | undefined }): Promise<JobRecord> {
    return this.#transition(options, 'completed', () => ({
      changes: { ...RELEASED, result: options.result },
      event: (_j, from) => ({ type: 'job.completed', data: { from, reason: options.reason, result: options.result } }),
    }));
  }

  /** `error` is anything thrown; it is stored serialized (code, message, retryable). */
  fail(options: TransitionOptions & { error: unknown }): Promise<JobRecord> {
    const error = serializeError(options.error);
    return this.#transition(options, 'failed', () => ({
      changes: { ...RELEASED, error },
      event: (_j, from) => ({ type: 'job.failed', data: { from, reason: options.reason, error } }),
    }));
  }

  cancel(options: TransitionOptions): Promise<JobRecord> {
    return this.#transition(options, 'cancelled', () => ({
      changes: RELEASED,
      event: (_j, from) => ({ type: 'job.cancelled', data: { from, reason: options.reason } }),
    }));
  }

  /** A poison job the queue set aside after `claims` claims. */
  markDeadLettered(options: TransitionOptions & { reason: string; claims?: number | undefined }): Promise<JobRecord> {
    return this.#transition(options, 'dead_lettered', () => ({
      changes: RELEASED,
      event: (_j, from) => ({ type: 'job.dead_lettered', data: { from, reason: options.reason, claims: options.claims } }),
    }));
  }

  /**
   * The record and events `resume` would write from `current`, without writing them: for a
   * caller that writes them together with another store's change (an action's answer,
   * `ActionStore.compareAndSetWithJobUpdate`). Checks the transition as `resume` does.
   */
  planResume(options: TransitionOptions & { current: JobRecord; actionId?: string | undefined }): { job: JobRecord; events: RuntimeEventInput[] } {
    const { next, published } = this.#plan(options.current, options, 'running', RESUME_PLAN(options), ['waiting_for_action']);
    return { job: next, events: [...(options.events ?? []), published] };
  }

  /** The next record and its `job.*` event, the transition checked. */
  #plan(
    job: JobRecord,
    options: TransitionOptions,
    to: JobStatus,
    plan: (job: JobRecord) => { changes: Partial<JobRecord>; event: (job: JobRecord, from: JobStatus) => Omit<JobEventInput, 'jobId' | 'scopeId'> },
    onlyFrom?: readonly JobStatus[],
  ): { next: JobRecord; published: JobEventInput } {
    if (options.expectedVersion !== undefined && job.version !== options.expectedVersion) {
      throw new ConcurrentModificationError({ recordType: 'job', recordId: job.id, expectedVersion: options.expectedVersion, actualVersion: job.version });
    }
    assertTransition({ jobId: job.id, from: job.status, to });
    // Some operations are one edge of the table only (start: queued → running, resume: waiting → running).
    if (onlyFrom && !onlyFrom.includes(job.status)) throw new IllegalTransitionError(job.id, job.status, to);
    const now = this.#now();
    const { changes, event } = plan(job);
    const change = options.reason === undefined ? { status: to, at: now } : { status: to, at: now, reason: options.reason };
    const next: JobRecord = { ...job, ...changes, status: to, updatedAt: Math.max(now, job.updatedAt), stateHistory: [...job.stateHistory, change] };
    const published = { ...event(next, job.status), jobId: next.id, scopeId: next.scopeId, sessionId: next.sessionId, traceId: traceOf(next), at: now } as JobEventInput;
    return { next, published };
  }

  async #transition(
    options: TransitionOptions,
    to: JobStatus,
    plan: (job: JobRecord) => { changes: Partial<JobRecord>; event: (job: JobRecord, from: JobStatus) => Omit<JobEventInput, 'jobId' | 'scopeId'> },
    onlyFrom?: readonly JobStatus[],
  ): Promise<JobRecord> {
    if (typeof options?.jobId !== 'string' || typeof options.scopeId !== 'string') throw new InvalidArgumentError('jobId', 'jobId and scopeId are required');
    let held = options.current !== undefined && options.current.id === options.jobId && options.current.scopeId === options.scopeId ? options.current : undefined;
    // Entries still to store with the transition (cleared once appended on their own).
    let journal = options.journal !== undefined && options.journal.entries.length > 0 && !this.#appended.has(options.journal) ? options.journal : undefined;
    for (let attempt = 0; ; attempt++) {
      const job = held ?? (await this.#store.get(options));
      const fromHeld = held !== undefined;
      held = undefined;
      if (!job) throw new JobNotFoundError(options.jobId, options.scopeId);
      const { next, published } = this.#plan(job, options, to, plan, onlyFrom);
      try {
        // The event goes with the write: stored in the same transaction where the bus shares the store's database.
        const outbox = this.#events ? { bus: this.#events, events: [...(options.events ?? []), published] } : undefined;
        if (journal) {
          const together = await journal.store.appendManyWithJobUpdate(journal.entries, journal.options, { store: this.#store, job: next, outbox, ack: options.ack, actions: options.actions });
          if (together) return together.job;
          // Not at once: the entries first (a refused append fails the transition, nothing written), then the job.
          await journal.store.appendMany(journal.entries, journal.options);
          // A caller that tries the transition again with the same entries (a run that re-read a stale job) does not append them twice.
          this.#appended.add(journal);
          journal = undefined;
        }
        if (options.actions && options.actions.records.length > 0) return (await options.actions.store.createWithJobUpdate(options.actions.records, { store: this.#store, job: next, outbox })).job;
        if (options.ack) return (await options.ack.queue.ackWithJobUpdate(options.ack.lease, { store: this.#store, job: next, outbox })).job;
        return outbox ? (await this.#store.updateWithEvents(next, outbox)).job : await this.#store.update(next);
      } catch (error) {
        // A held record that went stale is read again once, whatever `expectedVersion` says.
        const retry = (fromHeld || options.expectedVersion === undefined) && attempt < this.#maxRetries;
        if (retry && BatonError.isInstance(error) && error.code === 'concurrent_modification') continue;
        throw error;
      }
    }
  }

}

type JobEventInput = RuntimeEventInput<
  | 'job.created'
  | 'job.started'
  | 'job.waiting'
  | 'job.resumed'
  | 'job.requeued'
  | 'job.interrupted'
  | 'job.completed'
  | 'job.failed'
  | 'job.cancelled'
  | 'job.dead_lettered'
>;

/** What `resume` changes: the lease when there is one, and its `job.resumed` event. */
const RESUME_PLAN =
  (options: { reason?: string | undefined; actionId?: string | undefined; lease?: { owner: string; epoch: number; expiresAt: number } | undefined }) =>
  (job: JobRecord): { changes: Partial<JobRecord>; event: (job: JobRecord, from: JobStatus) => Omit<JobEventInput, 'jobId' | 'scopeId'> } => {
    const { lease } = options;
    return {
      changes: lease ? { leaseOwner: lease.owner, leaseEpoch: Math.max(lease.epoch, job.leaseEpoch), leaseExpiresAt: lease.expiresAt } : {},
      event: (_j, from) => ({ type: 'job.resumed', data: { from, reason: options.reason, actionId: options.actionId } }),
    };
  };

/** A job that no worker holds any more. */
const RELEASED: Partial<JobRecord> = { leaseOwner: undefined, leaseExpiresAt: undefined };

/** The job's trace id (set by the kernel from `ExecutionRequest.traceId`), for its events. */
function traceOf(job: JobRecord): string | undefined {
  const t = job.metadata['traceId'];
  return typeof t === 'string' && t.length > 0 ? t : undefined;
}
