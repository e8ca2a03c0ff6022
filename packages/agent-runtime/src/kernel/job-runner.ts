import { BatonError, TimeoutError, type ModelExecutor } from '@baton/llm-client';
import type { ActionManager } from '../actions/action-manager.js';
import { JobEndedError, UnknownWorkflowError } from '../errors/kernel-errors.js';
import type { JobManager } from '../jobs/job-manager.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { JsonValue } from '../jobs/json-value.js';
import type { EventBus } from '../ports/event-bus.js';
import type { JournalStore } from '../ports/journal-store.js';
import { EventEmitterChain } from './event-chain.js';
import { JobContext } from './job-context.js';
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
}

/** How a run of a job ended. */
export type RunOutcome =
  | { status: 'completed'; job: JobRecord }
  | { status: 'waiting_for_action'; job: JobRecord }
  | { status: 'failed' | 'cancelled' | 'interrupted'; job: JobRecord | undefined; error: BatonError; previousContext?: PreviousContext | undefined };

/** One job running in this process. */
export interface ActiveRun {
  readonly jobId: string;
  readonly scopeId: string;
  readonly sessionId: string | undefined;
  readonly controller: AbortController;
  readonly done: Promise<RunOutcome>;
  /** Partial model output of steps in flight. */
  readonly partials: Map<string, string>;
}

/**
 * Runs one job to its next resting state — completed, failed, waiting for an action,
 * cancelled or interrupted — replaying its journal first, retrying retryable failures from the
 * last checkpoint, and recording the outcome on the job.
 */
export function startRun(deps: JobRunnerDeps, job: JobRecord, mode: 'start' | 'resume', options: { timeoutMs?: number | undefined } = {}): ActiveRun {
  const controller = new AbortController();
  const partials = new Map<string, string>();
  const done = runLoop(deps, job, mode, controller, partials, options.timeoutMs);
  return { jobId: job.id, scopeId: job.scopeId, sessionId: job.sessionId, controller, done, partials };
}

async function runLoop(
  deps: JobRunnerDeps,
  initial: JobRecord,
  mode: 'start' | 'resume',
  controller: AbortController,
  partials: Map<string, string>,
  timeoutMs: number | undefined,
): Promise<RunOutcome> {
  const ref = { jobId: initial.id, scopeId: initial.scopeId };
  let job: JobRecord;
  try {
    job = mode === 'start' ? await deps.jobs.start(ref) : await deps.jobs.resume(ref);
  } catch (error) {
    // Another host or run got there first (or the job was cancelled meanwhile): nothing to do.
    return { status: 'cancelled', job: undefined, error: asBatonError(error) };
  }
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(new StopSignal({ kind: 'deadline' })), timeoutMs);
  const events = new EventEmitterChain(deps.events, { jobId: job.id, scopeId: job.scopeId, sessionId: job.sessionId, traceId: traceOf(job) }, deps.onError);
  try {
    const deferred = await deps.journal.takeDeferredEvents(ref);
    for (const d of deferred) events.emit(d.type, d.data as never);

    const workflow = deps.resolveWorkflow(job);
    if (!workflow) return await finishFailed(deps, events, job, new UnknownWorkflowError(String(job.metadata['workflow'] ?? 'agent'), job.id));
    const previousContext = job.metadata['previousContext'] as PreviousContext | undefined;

    for (let attempt = 1; ; attempt++) {
      const journal = await StepJournal.load(deps.journal, ref);
      const ctx = new JobContext({
        job,
        journal,
        journalStore: deps.journal,
        events,
        actions: deps.actions,
        engine: deps.engine,
        modelGate: deps.gate,
        signal: controller.signal,
        leaseEpoch: undefined,
        previousContext,
        now: deps.now,
        onActionRequired: deps.onActionRequired,
        partials,
      });
      try {
        const output = await workflow(ctx, job.input);
        await journal.flush();
        journal.close();
        await events.flush();
        const result = output === undefined ? null : (JSON.parse(JSON.stringify(output)) as JsonValue);
        const done = await deps.jobs.complete({ ...ref, result });
        return { status: 'completed', job: done };
      } catch (error) {
        await journal.flush().catch(() => undefined);
        journal.close();
        if (error === SUSPEND) {
          await events.flush();
          const waiting = await deps.jobs.markWaiting({ ...ref, reason: 'waiting for an action' });
          return { status: 'waiting_for_action', job: waiting };
        }
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
        return await finishFailed(deps, events, job, error);
      }
    }
  } catch (error) {
    deps.onError(error);
    return { status: 'failed', job: undefined, error: asBatonError(error) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function finishFailed(deps: JobRunnerDeps, events: EventEmitterChain, job: JobRecord, error: unknown): Promise<RunOutcome> {
  await events.flush();
  const failed = await deps.jobs.fail({ jobId: job.id, scopeId: job.scopeId, error });
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
      await events.flush();
      const interrupted = await deps.jobs.markInterrupted({ ...ref, byJobId: stop.byJobId, reason: 'interrupted by a newer message', result: { interrupted: previousContext } });
      return { status: 'interrupted', job: interrupted, error: new JobEndedError(job.id, 'interrupted', 'interrupted by a newer message'), previousContext };
    }
    case 'cancel':
    case 'shutdown': {
      const cancelled = await deps.jobs.cancel({ ...ref, reason: stop.kind === 'cancel' ? (stop.reason ?? 'cancelled') : 'kernel shut down' });
      return { status: 'cancelled', job: cancelled, error: new JobEndedError(job.id, 'cancelled', stop.kind === 'cancel' ? (stop.reason ?? 'cancelled') : 'kernel shut down') };
    }
  }
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
