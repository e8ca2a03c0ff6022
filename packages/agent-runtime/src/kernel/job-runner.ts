import { BatonError, TimeoutError, type ModelExecutor } from '@baton/llm-client';
import type { ActionManager } from '../actions/action-manager.js';
import type { ActionRecord } from '../ports/action-store.js';
import { JobEndedError, UnknownWorkflowError } from '../errors/kernel-errors.js';
import { LeaseLostError } from '../errors/store-errors.js';
import type { JobManager, TransitionOptions } from '../jobs/job-manager.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { JsonValue } from '../jobs/json-value.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import type { EventBus } from '../ports/event-bus.js';
import type { JournalLoad, JournalStore } from '../ports/journal-store.js';
import type { JobQueue, LeaseRef } from '../ports/job-queue.js';
import { EventEmitterChain } from './event-chain.js';
import { JobContext, type PendingAction } from './job-context.js';
import type { ModelGate } from './model-gate.js';
import { StopSignal, SUSPEND, type PreviousContext, type StopReason } from './run-control.js';
import { StepJournal } from './step-journal.js';

/** A job's code: deterministic between steps; every effect goes through `ctx`. */
export type Workflow = (ctx: JobContext, input: JsonValue) => Promise<unknown> | unknown;

export interface RetryPolicy {
  /** Runs of a job (the first included) before it fails (default 3). */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface JobRunnerDeps {
  jobs: JobManager;
  journal: JournalStore;
  events: EventBus;
  actions: ActionManager;
  engine: ModelExecutor | undefined;
  gate: ModelGate;
  retry: RetryPolicy;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random: () => number;
  resolveWorkflow: (job: JobRecord) => Workflow | undefined;
  onActionRequired: (info: { actionId: string; resumeToken: string; jobId: string; stepKey: string }) => void;
  onError: (error: unknown) => void;
  /** Recorded in the job's history as the reason of its start/resume. */
  hostId: string;
}

/** How a run of a job ended. */
export type RunOutcome =
  /** `acked`: the run's lease was acked with the completion (the worker must not ack again). */
  | { status: 'completed'; job: JobRecord; acked?: boolean | undefined }
  | { status: 'waiting_for_action'; job: JobRecord }
  | { status: 'failed' | 'cancelled' | 'interrupted' | 'lease_lost'; job: JobRecord | undefined; error: BatonError; previousContext?: PreviousContext | undefined }
  /** `retryInMs`: when the queue should offer it again (at once when absent). */
  | { status: 'handed_back'; job: JobRecord | undefined; error: BatonError; retryInMs?: number | undefined };

/** Reads of a job's journal and actions started before its run, while its resume was written. */
export interface EarlyReads {
  readonly loaded: Promise<JournalLoad>;
  readonly actions: Promise<readonly ActionRecord[]>;
}

/** One job running in this process. */
export interface ActiveRun {
  readonly jobId: string;
  readonly scopeId: string;
  readonly sessionId: string | undefined;
  readonly controller: AbortController;
  readonly done: Promise<RunOutcome>;
  /** Partial model output of steps in flight. */
  readonly partials: Map<string, string>;
  /**
   * Set once the run has begun writing how it ends (its completion, its pause or its failure).
   * Until then a cancel decides the end: the run checks its signal before that write and ends
   * cancelled instead.
   */
  readonly ending: { value: boolean };
}

/**
 * Runs one job to its next resting state — completed, failed, waiting for an action,
 * cancelled or interrupted — replaying its journal first, retrying retryable failures from the
 * last checkpoint, and recording the outcome on the job.
 */
/** A worker's lease on the job: journal writes are fenced by its epoch. */
export interface RunLease {
  owner: string;
  epoch: number;
  expiresAt: number;
}

/** How a run takes the job: a queued job starts, a waiting one resumes, a stale running one is taken over. */
export type RunMode = 'start' | 'resume' | 'takeover';

export function startRun(
  deps: JobRunnerDeps,
  job: JobRecord,
  mode: RunMode,
  options: {
    timeoutMs?: number | undefined;
    lease?: RunLease | undefined;
    /** The job was created here a moment ago (already started when its status says running): no journal to read yet. */
    fresh?: boolean | undefined;
    /** Events that announce this run (`action.resolved`), written with its start or resume (published anyway if that fails). */
    announce?: readonly RuntimeEventInput[] | undefined;
    /** The job's resume is written already (with its action's answer): `job` is the record it wrote; its journal and actions are being read. */
    resumed?: EarlyReads | undefined;
    /** Its journal and actions, read already (a resume claimed by a worker); the resume is written by this run. */
    read?: EarlyReads | undefined;
    /** A worker's run: its completion acks the lease on this queue in the same write (`JobQueue.ackWithJobUpdate`). */
    ackOn?: JobQueue | undefined;
  } = {},
): ActiveRun {
  const controller = new AbortController();
  const partials = new Map<string, string>();
  const ending = { value: false };
  const ack = options.ackOn && options.lease ? { queue: options.ackOn, lease: { jobId: job.id, scopeId: job.scopeId, workerId: options.lease.owner, epoch: options.lease.epoch } } : undefined;
  const done = runLoop(deps, job, mode, controller, partials, ending, options.timeoutMs, options.lease, options.fresh === true, options.announce ?? [], options.resumed, ack, options.read);
  return { jobId: job.id, scopeId: job.scopeId, sessionId: job.sessionId, controller, done, partials, ending };
}

async function runLoop(
  deps: JobRunnerDeps,
  initial: JobRecord,
  mode: RunMode,
  controller: AbortController,
  partials: Map<string, string>,
  ending: { value: boolean },
  timeoutMs: number | undefined,
  lease: RunLease | undefined,
  fresh: boolean,
  announce: readonly RuntimeEventInput[],
  resumed: EarlyReads | undefined,
  ack: { queue: JobQueue; lease: LeaseRef } | undefined,
  read: EarlyReads | undefined,
): Promise<RunOutcome> {
  const ref = { jobId: initial.id, scopeId: initial.scopeId };
  const leaseEpoch = lease?.epoch;
  /**
   * Whether the run may write its end now: not once it was cancelled (the cancel decided the
   * end already). Checked and marked in one synchronous turn, so that a cancel either comes
   * before (and wins) or sees that the end is being written.
   */
  const mayEnd = (): boolean => {
    if (stopOf(controller.signal.reason)?.kind === 'cancel') return false;
    ending.value = true;
    return true;
  };
  let job: JobRecord;
  // A queued or waiting job has no run writing to it: its journal (and, resumed, its actions)
  // can be read while the transition is written. A takeover reads after fencing; a job created
  // here a moment ago, or a queued one that never started (only runs write journals, and each
  // start counts an attempt), has nothing to read.
  const neverStarted = fresh || (mode === 'start' && initial.attempts === 0);
  let early: { loaded: Promise<JournalLoad>; actions: Promise<readonly ActionRecord[]> | undefined } | undefined = resumed;
  if (!neverStarted && !resumed && mode !== 'takeover') {
    early = read && mode === 'resume' ? read : { loaded: deps.journal.load(ref), actions: mode === 'resume' ? deps.actions.listByJob(ref) : undefined };
    early.loaded.catch(() => undefined);
    early.actions?.catch(() => undefined);
  }
  try {
    // Only a takeover can find an earlier run still writing (a worker that stalled past its
    // lease): raise the journal's fence first, so that its late writes are refused. A queued
    // or waiting job had no run left: winning its transition is enough, and this run's first
    // journal write raises the fence to its epoch.
    if (lease && mode === 'takeover') await deps.journal.fence({ ...ref, leaseEpoch: lease.epoch });
    // Transitions write against the record this run holds (no read first); a stale one is read again.
    let current: JobRecord | undefined = initial;
    const carried = announce.length > 0 ? announce : undefined;
    if (mode === 'takeover') {
      // The previous holder died or lost its lease while the job ran: hand it back, then start it here.
      current = await deps.jobs.requeue({ ...ref, current, reason: `lease of ${initial.leaseOwner ?? 'a previous worker'} expired` });
    }
    job =
      (fresh || resumed) && initial.status === 'running'
        ? initial // created already started, or resumed with its action's answer, by the same write
        : mode === 'resume'
        ? await deps.jobs.resume({ ...ref, current, reason: `resumed on ${deps.hostId}`, lease, events: carried })
        : await deps.jobs.start({ ...ref, current, reason: `${mode === 'takeover' ? 'taken over' : 'started'} on ${deps.hostId}`, lease, events: carried });
  } catch (error) {
    if (announce.length > 0) await deps.events.publishMany(announce).catch(deps.onError);
    if (lease && transient(error)) {
      // The store failed a moment (no other writer won): a worker hands the job back to the queue, to run later.
      deps.onError(error);
      return { status: 'handed_back', job: undefined, error: asBatonError(error), retryInMs: HAND_BACK_RETRY_MS };
    }
    // Another host or run got there first (or the job was cancelled meanwhile): nothing to do.
    return { status: 'cancelled', job: undefined, error: asBatonError(error) };
  }
  // Under a lease, every later change of the job checks that the lease is still ours.
  const held = { job };
  deps = { ...deps, jobs: runJobs(deps.jobs, lease, held) };
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(new StopSignal({ kind: 'deadline' })), timeoutMs);
  // Where the journal and the bus share a database, a step's events are stored with the step.
  const lingerMs = deps.events.sharesTransactionsWith(deps.journal) ? EVENT_LINGER_MS : 0;
  const events = new EventEmitterChain(deps.events, { jobId: job.id, scopeId: job.scopeId, sessionId: job.sessionId, traceId: traceOf(job) }, deps.onError, { lingerMs });
  try {
    let loaded: JournalLoad | undefined;
    const actionsOnResume = early?.actions;
    if (!neverStarted) {
      loaded = await (early?.loaded ?? deps.journal.load(ref));
      // Events stored by the previous run for this one (`emitOnResume`), unless the store says there are none.
      if (loaded.hasDeferredEvents !== false) {
        const deferred = await deps.journal.takeDeferredEvents({ ...ref, leaseEpoch });
        for (const d of deferred) events.emit(d.type, d.data as never);
      }
    }

    const workflow = deps.resolveWorkflow(job);
    if (!workflow) return await finishFailed(deps, events, job, new UnknownWorkflowError(String(job.metadata['workflow'] ?? 'agent'), job.id));
    const previousContext = job.metadata['previousContext'] as PreviousContext | undefined;

    for (let attempt = 1; ; attempt++) {
      const first = attempt === 1;
      const pausing: PendingAction[] = [];
      const journal =
        neverStarted && first
          ? StepJournal.empty(deps.journal, ref, leaseEpoch, events)
          : first && loaded
            ? StepJournal.from(deps.journal, ref, loaded, leaseEpoch, events)
            : await StepJournal.load(deps.journal, ref, leaseEpoch, events);
      let jobActions: (() => Promise<readonly ActionRecord[]>) | undefined;
      if (neverStarted && first) jobActions = () => Promise.resolve([]);
      else if (first && actionsOnResume) {
        let prefetched: Promise<readonly ActionRecord[]> | undefined = actionsOnResume;
        jobActions = () => {
          const list = prefetched ?? deps.actions.listByJob(ref);
          prefetched = undefined;
          return list;
        };
      }
      const ctx = new JobContext({
        job,
        journal,
        journalStore: deps.journal,
        events,
        actions: deps.actions,
        engine: deps.engine,
        modelGate: deps.gate,
        signal: controller.signal,
        leaseEpoch,
        previousContext,
        now: deps.now,
        partials,
        jobActions,
        pausing,
      });
      try {
        const output = await workflow(ctx, job.input);
        // The job's code finished, but a cancel that came first ends the job cancelled.
        if (!mayEnd()) throw controller.signal.reason;
        const result = output === undefined ? null : (JSON.parse(JSON.stringify(output)) as JsonValue);
        // The steps not stored yet (the last one, deferred; an answered wait) are stored with the completion.
        const done = await journal.writeLast((pending) =>
          withQueuedEvents(events, (carried) => deps.jobs.complete({ ...ref, result, events: carried, ack, journal: pending && { store: deps.journal, ...pending } })),
        );
        journal.close();
        return { status: 'completed', job: done, acked: ack !== undefined };
      } catch (caught) {
        let error = caught;
        if (error === SUSPEND && mayEnd()) {
          // The requests made by this run are stored with the pause (their events before
          // job.waiting), and so are the steps not stored yet. Their tokens go out as the pause is
          // written, so that whoever relays them (a stream of the job's events) has them when the
          // action.required event comes.
          const requested = pausing.splice(0);
          for (const p of requested) deps.onActionRequired({ actionId: p.action.id, resumeToken: p.resumeToken, jobId: job.id, stepKey: p.stepKey });
          let waiting: JobRecord | undefined;
          try {
            waiting = await journal.writeLast((pending) =>
              withQueuedEvents(events, (carried) =>
                deps.jobs.markWaiting({
                  ...ref,
                  reason: 'waiting for an action',
                  actionId: requested.length === 1 ? requested[0]!.action.id : undefined,
                  events: [...(carried ?? []), ...requested.map((p) => p.event)],
                  actions: requested.length > 0 ? { store: deps.actions.actionStore, records: requested.map((p) => p.action) } : undefined,
                  journal: pending && { store: deps.journal, ...pending },
                }),
              ),
            );
          } catch (failed) {
            // The pause was not written (its requests neither): handled as any failure of the
            // run below — retried from the journal when it may pass later, else the job fails.
            error = failed;
          } finally {
            // A pause that failed to be written leaves the steps for the next run to find.
            await journal.flush().catch(() => undefined);
            journal.close();
          }
          if (waiting) {
            for (const p of requested) deps.actions.announce(p.action);
            return { status: 'waiting_for_action', job: waiting };
          }
        } else {
          await journal.flush().catch(() => undefined);
          journal.close();
        }
        if (BatonError.isInstance(error) && error.code === 'lease_lost') throw error;
        const stop = controller.signal.aborted ? stopOf(controller.signal.reason) : undefined;
        if (stop) return await finishStopped(deps, events, job, stop, journal, partials);
        const retryable = BatonError.isInstance(error) && error.retryable;
        if (retryable && attempt < deps.retry.maxAttempts) {
          const delay = Math.min(deps.retry.maxDelayMs, deps.retry.initialDelayMs * 2 ** (attempt - 1)) * deps.random();
          await events.flush();
          try {
            await deps.sleep(delay, controller.signal);
          } catch {
            const late = stopOf(controller.signal.reason);
            if (late) return await finishStopped(deps, events, job, late, journal, partials);
          }
          continue;
        }
        ending.value = true;
        return await finishFailed(deps, events, job, error);
      }
    }
  } catch (error) {
    if (BatonError.isInstance(error) && error.code === 'lease_lost') {
      // Another worker holds the job: this run stops without writing anything more.
      return { status: 'lease_lost', job: undefined, error };
    }
    deps.onError(error);
    // The run could not go on outside its steps (its journal unreadable, a store failing): the
    // job is not left running with no run behind it. A worker hands back a job whose store failed
    // for a moment (it runs again later, from its journal); otherwise the job is recorded failed
    // with the error, and where even that write fails, a worker hands the job back too.
    if (lease && transient(error)) return { status: 'handed_back', job: undefined, error: asBatonError(error), retryInMs: HAND_BACK_RETRY_MS };
    try {
      const stop = stopOf(controller.signal.reason);
      if (stop?.kind === 'cancel') return await finishCancelled(deps, job, stop);
      ending.value = true;
      return await finishFailed(deps, events, job, error);
    } catch (failed) {
      if (!(BatonError.isInstance(failed) && failed.code === 'lease_lost')) deps.onError(failed);
      if (lease) return { status: 'handed_back', job: undefined, error: asBatonError(error), retryInMs: HAND_BACK_RETRY_MS };
      return { status: 'failed', job: undefined, error: asBatonError(error) };
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function finishFailed(deps: JobRunnerDeps, events: EventEmitterChain, job: JobRecord, error: unknown): Promise<RunOutcome> {
  const failed = await withQueuedEvents(events, (carried) => deps.jobs.fail({ jobId: job.id, scopeId: job.scopeId, error, events: carried }));
  const e = asBatonError(error);
  return { status: 'failed', job: failed, error: new JobEndedError(job.id, 'failed', e.message, e.code, error) };
}

async function finishStopped(
  deps: JobRunnerDeps,
  events: EventEmitterChain,
  job: JobRecord,
  stop: StopReason,
  journal: StepJournal,
  partials: Map<string, string>,
): Promise<RunOutcome> {
  const ref = { jobId: job.id, scopeId: job.scopeId };
  await events.flush();
  if (stop.kind === 'lease-lost') {
    // Another worker holds the job now: write nothing more.
    return { status: 'lease_lost', job: undefined, error: new JobEndedError(job.id, 'cancelled', 'lease lost to another worker') };
  }
  if (stop.kind === 'shutdown') {
    // Hand the job back: any kernel or worker continues it from its journal.
    const requeued = await deps.jobs.requeue({ ...ref, reason: `${deps.hostId} shut down` });
    return { status: 'handed_back', job: requeued, error: new JobEndedError(job.id, 'cancelled', 'handed back at shutdown') };
  }
  await deps.actions.cancelJobActions(ref).catch(() => undefined);
  switch (stop.kind) {
    case 'deadline': {
      const error = new TimeoutError(0, `Job ${job.id}`);
      return finishFailed(deps, events, job, error);
    }
    case 'interrupt': {
      if (stop.strategy === 'rollback') {
        const cancelled = await deps.jobs.cancel({ ...ref, reason: stop.byJobId ? `rolled back by ${stop.byJobId}` : 'rolled back' });
        return { status: 'cancelled', job: cancelled, error: new JobEndedError(job.id, 'cancelled', 'rolled back by a newer message') };
      }
      const previousContext = buildPreviousContext(job, journal, partials, deps.now());
      events.emit('interruption.completed', { strategy: 'interrupt', keptSteps: previousContext.completedSteps.length, nextJobId: stop.byJobId });
      const interrupted = await withQueuedEvents(events, (carried) =>
        deps.jobs.markInterrupted({ ...ref, byJobId: stop.byJobId, reason: 'interrupted by a newer message', result: { interrupted: previousContext }, events: carried }),
      );
      return { status: 'interrupted', job: interrupted, error: new JobEndedError(job.id, 'interrupted', 'interrupted by a newer message'), previousContext };
    }
    case 'cancel':
      return finishCancelled(deps, job, stop);
  }
}

/** Records the cancellation, unless the kernel that cancelled the job recorded it already. */
async function finishCancelled(deps: JobRunnerDeps, job: JobRecord, stop: Extract<StopReason, { kind: 'cancel' }>): Promise<RunOutcome> {
  const ref = { jobId: job.id, scopeId: job.scopeId };
  const current = await deps.jobs.get(ref);
  const cancelled = current?.status === 'cancelled' ? current : await deps.jobs.cancel({ ...ref, reason: stop.reason ?? 'cancelled' });
  return { status: 'cancelled', job: cancelled, error: new JobEndedError(job.id, 'cancelled', stop.reason ?? 'cancelled') };
}

/** What an interrupted job achieved: its finished steps (outputs shortened) and the partial text in flight. */
export function buildPreviousContext(job: JobRecord, journal: StepJournal, partials: Map<string, string>, now: number): PreviousContext {
  const completedSteps = journal
    .entries()
    .filter((e) => e.status === 'completed')
    .map((e) => ({ stepId: e.stepId ?? String(e.seq), kind: e.kind, name: e.name, output: shorten(e.output ?? null) }));
  return { jobId: job.id, input: job.input, partialText: [...partials.values()].join(''), completedSteps, interruptedAt: now };
}

function shorten(value: JsonValue): JsonValue {
  const text = JSON.stringify(value);
  if (text.length <= 2000) return value;
  return `${text.slice(0, 2000)}…`;
}

/**
 * Runs a transition that ends a run with the job's queued events: carried by the transition's
 * write where journal writes carry events, else published first.
 */
async function withQueuedEvents(events: EventEmitterChain, transition: (carried: readonly RuntimeEventInput[] | undefined) => Promise<JobRecord>): Promise<JobRecord> {
  if (!events.carriesEvents) {
    await events.flush();
    return transition(undefined);
  }
  return events.writeWith(() => [], (batch) => transition(batch.length > 0 ? batch : undefined));
}

/** A store failing for a moment (retryable), as opposed to another writer winning (a conflict). */
function transient(error: unknown): boolean {
  return BatonError.isInstance(error) && error.retryable && error.code !== 'concurrent_modification';
}

/**
 * How long a job handed back after a store failure (or that a worker could not start) waits
 * before the queue offers it again: a failure loop would otherwise reach `maxClaims` at once.
 */
export const HAND_BACK_RETRY_MS = 1000;

const TRANSITIONS = new Set(['complete', 'markWaiting', 'fail', 'cancel', 'markInterrupted', 'requeue']);

/**
 * How long a job's events may wait for its next journal write to carry them, where the journal
 * shares transactions with the bus: a step's `model.started`, `model.completed` and
 * `step.completed` are then stored with the step in one write, while an event of a long step
 * (a model still thinking, its streamed deltas) is published within this delay.
 */
const EVENT_LINGER_MS = 5;

/**
 * The job manager as a run uses it: each transition writes against the record the run holds
 * (`held`, updated by every transition) instead of reading the job first. Under a lease it also
 * checks that the job still carries the run's epoch and writes only if the job has not changed
 * since (its version), so a worker that lost its lease can never overwrite the new holder's
 * state; a held record that went stale is read again and checked.
 */
function runJobs(jobs: JobManager, lease: RunLease | undefined, held: { job: JobRecord | undefined }): JobManager {
  return new Proxy(jobs, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof prop !== 'string' || !TRANSITIONS.has(prop)) return (value as (...a: unknown[]) => unknown).bind(target);
      const call = (options: TransitionOptions) => (value as (o: TransitionOptions) => Promise<JobRecord>).call(target, options);
      return async (options: TransitionOptions) => {
        const current = held.job?.id === options.jobId ? held.job : undefined;
        let saved: JobRecord | undefined;
        if (!lease) {
          saved = await call({ ...options, current });
        } else {
          if (current && current.leaseEpoch === lease.epoch) {
            try {
              saved = await call({ ...options, current, expectedVersion: current.version });
            } catch (error) {
              if (!(BatonError.isInstance(error) && error.code === 'concurrent_modification')) throw error;
            }
          }
          if (saved === undefined) {
            const stored = await target.get(options);
            if (!stored || stored.leaseEpoch !== lease.epoch) {
              throw new LeaseLostError({ jobId: options.jobId, leaseEpoch: lease.epoch, currentEpoch: stored?.leaseEpoch, workerId: lease.owner });
            }
            saved = await call({ ...options, current: stored, expectedVersion: stored.version });
          }
        }
        held.job = saved;
        return saved;
      };
    },
  });
}

function stopOf(reason: unknown): StopReason | undefined {
  return reason instanceof StopSignal ? reason.stop : undefined;
}

function traceOf(job: JobRecord): string | undefined {
  const t = job.metadata['traceId'];
  return typeof t === 'string' ? t : undefined;
}

function asBatonError(error: unknown): BatonError {
  if (BatonError.isInstance(error)) return error;
  return new JobEndedError('unknown', 'failed', error instanceof Error ? error.message : String(error), 'error', error);
}
