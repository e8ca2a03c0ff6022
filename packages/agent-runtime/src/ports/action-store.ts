import { z } from 'zod';
import { JsonValueSchema } from '../jobs/json-value.js';
import { BatonError, InvalidArgumentError } from '@baton/llm-client';
import { CorruptActionRecordError } from '../errors/action-errors.js';
import type { RuntimeEvent } from '../events/runtime-event.js';
import { JobRecordSchema, type JobRecord } from '../jobs/job-record.js';
import type { EventOutbox } from './event-bus.js';
import type { JobStore } from './job-store.js';
import type { JournalLoad, JournalStore } from './journal-store.js';
import type { EnqueueOptions, JobQueue } from './job-queue.js';
import type { Signal, SignalChannel } from './signal-channel.js';

/** Version of the stored `ActionRecord` shape. Bumped, with an upgrade path, when it changes. */
export const ACTION_RECORD_SCHEMA_VERSION = 1;

export const ACTION_STATUSES = ['pending', 'resolved', 'rejected', 'expired', 'escalated', 'cancelled'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
/** Statuses after which an action never changes again (`escalated` hands over to another action). */
export const FINAL_ACTION_STATUSES: ReadonlySet<ActionStatus> = new Set(['resolved', 'rejected', 'expired', 'escalated', 'cancelled']);

export type ActionTimeoutBehavior = 'fail' | 'default' | 'escalate';

/** Who takes over when an action expires with `onTimeout: 'escalate'` (fields left out are inherited). */
export interface EscalationSpec {
  approvers: string[];
  requiredApprovals?: number | undefined;
  timeoutSeconds?: number | undefined;
  onTimeout?: ActionTimeoutBehavior | undefined;
  defaultResolution?: z.core.util.JSONType | undefined;
  title?: string | undefined;
  description?: string | undefined;
  escalateTo?: EscalationSpec | undefined;
}

const principalId = z.string().min(1).max(256);

export const EscalationSpecSchema: z.ZodType<EscalationSpec> = z.lazy(() =>
  z.strictObject({
    approvers: z.array(principalId).min(1),
    requiredApprovals: z.number().int().positive().optional(),
    timeoutSeconds: z.number().positive().optional(),
    onTimeout: z.enum(['fail', 'default', 'escalate']).optional(),
    defaultResolution: JsonValueSchema.optional(),
    title: z.string().min(1).optional(),
    description: z.string().optional(),
    escalateTo: EscalationSpecSchema.optional(),
  }),
);

export const ActionApprovalSchema = z.object({
  principalId,
  decision: z.enum(['approve', 'reject']),
  comment: z.string().optional(),
  /** The resolution this approver submitted (parsed by the action type's schema). */
  resolution: JsonValueSchema.optional(),
  /** Epoch milliseconds. */
  at: z.number().int().nonnegative(),
});
export type ActionApproval = z.infer<typeof ActionApprovalSchema>;

const epochMs = z.number().int().nonnegative();

/**
 * A human-in-the-loop action as stored. Times are epoch milliseconds. `version` increases by one
 * on every write and is what `compareAndSet` compares. The resume token itself is never stored,
 * only its SHA-256 (`tokenHash`, hex).
 */
export const ActionRecordSchema = z.object({
  schemaVersion: z.literal(ACTION_RECORD_SCHEMA_VERSION),
  id: z.string().min(1),
  scopeId: z.string().min(1),
  jobId: z.string().min(1),
  stepKey: z.string().min(1),
  type: z.string().min(1),
  title: z.string().min(1),
  description: z.string().optional(),
  payload: JsonValueSchema.optional(),
  status: z.enum(ACTION_STATUSES),
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Principals allowed to answer; empty = any principal of the scope holding the token. */
  approvers: z.array(principalId),
  requiredApprovals: z.number().int().positive(),
  approvals: z.array(ActionApprovalSchema),
  resolution: JsonValueSchema.optional(),
  /** The principal whose answer made the action final, or `system:timeout` / `system:cancel`. */
  resolvedBy: z.string().optional(),
  timeoutSeconds: z.number().positive(),
  onTimeout: z.enum(['fail', 'default', 'escalate']),
  defaultResolution: JsonValueSchema.optional(),
  escalateTo: EscalationSpecSchema.optional(),
  escalatedToActionId: z.string().min(1).optional(),
  escalatedFromActionId: z.string().min(1).optional(),
  createdBy: z.string().optional(),
  createdAt: epochMs,
  expiresAt: epochMs,
  resolvedAt: epochMs.optional(),
  version: z.number().int().positive(),
});
export type ActionRecord = z.infer<typeof ActionRecordSchema>;

/**
 * Parses a stored row into an `ActionRecord`, or throws `CorruptActionRecordError` naming the
 * action (a row from an unknown schema version says so). Every store calls it on load.
 */
export function parseActionRecord(raw: unknown, actionId: string): ActionRecord {
  if (typeof raw !== 'object' || raw === null) throw new CorruptActionRecordError(actionId, 'not an object');
  const version = (raw as { schemaVersion?: unknown }).schemaVersion;
  if (version !== ACTION_RECORD_SCHEMA_VERSION) {
    throw new CorruptActionRecordError(actionId, `unknown schema version ${JSON.stringify(version)} (this runtime reads ${ACTION_RECORD_SCHEMA_VERSION})`);
  }
  const parsed = ActionRecordSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptActionRecordError(actionId, `${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}`, parsed.error);
  }
  return parsed.data;
}

export type CompareAndSetResult =
  /** Won: `record` as stored. `signalled`: the write also sent the answer's wake-up signal (`WriteSignal`). */
  | { ok: true; record: ActionRecord; signalled?: boolean | undefined }
  /** Lost the race: `current` is the record as it is now (undefined when not found in the scope). */
  | { ok: false; current: ActionRecord | undefined };

/**
 * A signal to send with a write, only when the write lands: where the store shares transactions
 * with `channels`, the write's own statement sends it (no round trip of its own); otherwise the
 * caller publishes it afterwards.
 */
export interface WriteSignal {
  readonly channels: SignalChannel;
  readonly channel: string;
  readonly signal: Signal;
}

/**
 * A waiting job's journal and actions, read with the action that may resume it
 * (`ActionStore.getByTokenHashWithJob`). Each is parsed when first asked for (a corrupt record
 * throws then, as `load` and `listByJob` would), so the caller can parse them while it writes.
 */
export interface ResumeReads {
  /** The job's journal, as `JournalStore.load` returns it. */
  journal(): JournalLoad;
  /** The job's actions, oldest first, as `listByJob` returns them. */
  actions(): readonly ActionRecord[];
}

/** A job's return to the queue with its events and the workers' wake-up, as `JobQueue.enqueueAndSignal` takes them. */
export interface EnqueueWithWakeUp {
  readonly queue: JobQueue;
  readonly options: EnqueueOptions;
  readonly wake: { channels: SignalChannel; channel: string; signal: Signal; onSignalError?: ((error: unknown) => void) | undefined };
  readonly outbox?: EventOutbox | undefined;
  /**
   * The answer's own wake-up (`action.resolved`, for whoever waits on the action): sent by the
   * same write where this store shares transactions with its channel (the result's `signalled:
   * true`); else, and by default, the caller publishes it.
   */
  readonly answered?: WriteSignal | undefined;
}

/**
 * Storage of actions. Every query is scoped: a record of another scope behaves as not found.
 * Implementations: `InMemoryActionStore` here, Postgres/PGlite and Redis in the adapters; all run
 * `describeActionStoreContract`. An abstract class so that methods added later ship with a default.
 */
export abstract class ActionStore {
  /** Stores a new record (its `version` must be 1). Throws `DuplicateActionError` if the id exists. */
  abstract create(record: ActionRecord): Promise<void>;

  abstract get(query: { scopeId: string; actionId: string }): Promise<ActionRecord | undefined>;

  /** The action whose resume token hashes to `tokenHash`, in that scope only. */
  abstract getByTokenHash(query: { scopeId: string; tokenHash: string }): Promise<ActionRecord | undefined>;

  /**
   * Atomically replaces the record (same id and scope) if its stored `version` still equals
   * `expectedVersion`; the stored record gets `version = expectedVersion + 1` (the `version` of
   * the argument is ignored). Of two concurrent calls with the same expected version, exactly one
   * succeeds.
   */
  abstract compareAndSet(update: { record: ActionRecord; expectedVersion: number }): Promise<CompareAndSetResult>;

  /** A job's actions, oldest first (by `createdAt`, then `id`). */
  abstract listByJob(query: { scopeId: string; jobId: string }): Promise<ActionRecord[]>;

  /** The scope's pending actions, oldest first, at most `limit` (default 100). */
  abstract listPending(query: { scopeId: string; limit?: number }): Promise<ActionRecord[]>;

  /**
   * Pending actions whose `expiresAt <= now`, soonest first, at most `limit` (default 100); across
   * every scope unless `scopeId` is given (the expiry sweeper is a system task).
   */
  abstract listExpired(query: { now: number; scopeId?: string; limit?: number }): Promise<ActionRecord[]>;

  /**
   * Stores new actions together with their job's change (a pause: the requests and the job
   * waiting for them): where this store shares transactions with `update.store` (and its bus),
   * both are one write — the actions exist only if the job's compare-and-set matched. The
   * default creates the actions, then writes the job (`updateWithEvents` when there is an outbox).
   * Fails as `create` and `JobStore.update` do.
   */
  async createWithJobUpdate(actions: readonly ActionRecord[], update: { store: JobStore; job: JobRecord; outbox?: EventOutbox | undefined }): Promise<{ job: JobRecord; events: RuntimeEvent[] }> {
    for (const action of actions) {
      try {
        await this.create(action);
      } catch (error) {
        // Created by an earlier attempt of the same write (its job update lost a race): keep it.
        const existing = BatonError.isInstance(error) && error.code === 'duplicate_action' ? await this.get({ scopeId: action.scopeId, actionId: action.id }) : undefined;
        if (existing?.tokenHash !== action.tokenHash) throw error;
      }
    }
    if (update.outbox) return update.store.updateWithEvents(update.job, update.outbox);
    return { job: await update.store.update(update.job), events: [] };
  }

  /**
   * The action whose resume token hashes to `tokenHash` (in that scope only) and its job as
   * `jobs` holds it: what a resume needs first. Where this store shares a database with `jobs`,
   * one read; the default reads the action, then its job. `job` is undefined when the job is gone.
   *
   * With `also.journal`, a store that shares that database with the journal too may add `reads`:
   * the job's journal (as `JournalStore.load`) and its actions (as `listByJob`), from the same
   * snapshot, when the job waits for this action and an answer to it now may be its last — all a
   * resume reads, in that one read. Without `reads` (the default) the caller reads them itself.
   */
  async getByTokenHashWithJob(
    query: { scopeId: string; tokenHash: string },
    jobs: JobStore,
    _also?: { journal?: JournalStore | undefined },
  ): Promise<{ action: ActionRecord; job: JobRecord | undefined; reads?: ResumeReads | undefined } | undefined> {
    const action = await this.getByTokenHash(query);
    if (!action) return undefined;
    return { action, job: await jobs.get({ scopeId: action.scopeId, jobId: action.jobId }) };
  }

  /**
   * An answer together with its job's change (a resume: the action answered, the job running
   * again). The action's compare-and-set is `compareAndSet`'s; only when it wins is the job
   * written, by compare-and-set on `update.job.version` as `JobStore.update` does, with the
   * outbox's events. Where this store shares transactions with `update.store` (and its bus) the
   * common case — neither record changed since it was read — is one write; otherwise, and by
   * default, the answer is written, then the job.
   *
   * - `action.ok: false`: the answer lost its race; nothing was written.
   * - `action.ok: true` with `job`: both were written, and the events.
   * - `action.ok: true` without `job`: the answer stands, but the job had changed or is gone
   *   (its change and its events were not written): the caller moves the job on another way.
   * Other failures of the job's write are thrown.
   *
   * `update.signal` (the answer's wake-up for waiters elsewhere) is sent by that one write where
   * this store also shares transactions with its channel (`action.signalled: true`); the default
   * never sends it, and the caller publishes it.
   */
  async compareAndSetWithJobUpdate(
    answer: { record: ActionRecord; expectedVersion: number },
    update: { store: JobStore; job: JobRecord; outbox?: EventOutbox | undefined; signal?: WriteSignal | undefined },
  ): Promise<{ action: CompareAndSetResult; job?: { job: JobRecord; events: RuntimeEvent[] } | undefined }> {
    // A job record the job store would refuse must not leave the answer written alone.
    const parsed = JobRecordSchema.safeParse(update.job);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidArgumentError(`job${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, issue?.message ?? 'invalid job record', parsed.error);
    }
    const action = await this.compareAndSet(answer);
    if (!action.ok) return { action };
    try {
      const job = update.outbox ? await update.store.updateWithEvents(update.job, update.outbox) : { job: await update.store.update(update.job), events: [] };
      return { action, job };
    } catch (error) {
      if (BatonError.isInstance(error) && (error.code === 'concurrent_modification' || error.code === 'job_not_found')) return { action };
      throw error;
    }
  }

  /**
   * An answer together with its job's return to the queue (a resume where workers run the
   * jobs): the action's compare-and-set as `compareAndSet`; only when it wins, the job enqueued
   * with the outbox's events and the workers' wake-up, as `JobQueue.enqueueAndSignal` does. Where
   * this store shares transactions with the queue (and its bus and signals) that is one write,
   * which also sends `answered` when it can (`signalled: true`); otherwise, and by default, the
   * answer is written, then the enqueue. A lost race writes nothing (`ok: false`).
   */
  async compareAndSetWithEnqueue(
    answer: { record: ActionRecord; expectedVersion: number },
    enqueue: EnqueueWithWakeUp,
  ): Promise<CompareAndSetResult> {
    const action = await this.compareAndSet(answer);
    if (action.ok) await enqueue.queue.enqueueAndSignal(enqueue.options, enqueue.wake, enqueue.outbox);
    return action;
  }

  /** Releases connections; the default does nothing. */
  async close(): Promise<void> {}
}
