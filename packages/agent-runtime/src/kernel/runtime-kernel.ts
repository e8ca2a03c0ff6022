import { BatonError, InvalidArgumentError, type Agent, type ModelExecutor } from '@baton/llm-client';
import { ActionManager } from '../actions/action-manager.js';
import { InMemoryActionStore } from '../actions/in-memory-action-store.js';
import { InMemorySignalChannel } from '../actions/in-memory-signal-channel.js';
import type { ActionTypeRegistry } from '../actions/action-type-registry.js';
import { JobEndedError, SessionBusyError, UnknownWorkflowError } from '../errors/kernel-errors.js';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import type { RuntimeEvent, RuntimeEventInput } from '../events/runtime-event.js';
import { TERMINAL_JOB_EVENT_TYPES } from '../events/runtime-event-type.js';
import { InMemoryJobStore } from '../jobs/in-memory-job-store.js';
import { JobManager } from '../jobs/job-manager.js';
import type { JobRecord } from '../jobs/job-record.js';
import { isTerminalJobStatus } from '../jobs/job-status.js';
import type { JsonObject } from '../jobs/json-value.js';
import { InMemoryJournalStore } from '../journal/in-memory-journal-store.js';
import type { ActionRecord, ActionStore, ResumeReads } from '../ports/action-store.js';
import type { EventBus } from '../ports/event-bus.js';
import type { JobPage, JobStore, ListJobsOptions } from '../ports/job-store.js';
import type { JournalStore } from '../ports/journal-store.js';
import { signalChannelName, type Signal, type SignalChannel } from '../ports/signal-channel.js';
import type { JobQueue } from '../ports/job-queue.js';
import { Worker, type WorkerHost, type WorkerOptions } from './worker.js';
import { agentWorkflow } from './agent-workflow.js';
import { ExecutionHandle, type HandleHost, type JobResult } from './execution-handle.js';
import { ExecutionRequestSchema, type ExecutionRequest, type InterruptionStrategy } from './execution-request.js';
import { buildPreviousContext, startRun, type ActiveRun, type EarlyReads, type RetryPolicy, type RunLease, type RunMode, type RunOutcome, type Workflow } from './job-runner.js';
import { ModelGate, type KernelPolicy } from './model-gate.js';
import type { Ledger } from '../ledger/ledger.js';
import { StopSignal, type PreviousContext } from './run-control.js';
import { StepJournal } from './step-journal.js';

/** The stores a kernel runs on; in-memory ones by default, durable ones from the adapters. */
export interface RuntimeStores {
  jobs: JobStore;
  journal: JournalStore;
  events: EventBus;
  actions: ActionStore;
  signals: SignalChannel;
}

export interface RuntimeKernelOptions {
  /** The engine `ctx.callModel` uses (agents bring their own). */
  engine?: ModelExecutor;
  /** The agent that runs jobs of the default `agent` workflow. */
  agent?: Agent;
  /** More agents, chosen by `ExecutionRequest.agent`. */
  agents?: Record<string, Agent>;
  /** Named workflows, chosen by `ExecutionRequest.workflow`. Every host that may resume a job needs its workflow. */
  workflows?: Record<string, Workflow>;
  stores?: Partial<RuntimeStores>;
  /**
   * With a queue, `execute` and `resume` enqueue jobs instead of running them here, and workers
   * (`startWorker`, on any host over the same stores) claim and run them under a lease.
   */
  queue?: JobQueue;
  policy?: KernelPolicy;
  /** Scope budgets: every model call reserves against it and settles with the real usage. */
  ledger?: Ledger;
  actionTypes?: ActionTypeRegistry;
  /** Retries of a job after a retryable failure, from its last checkpoint. */
  retry?: Partial<RetryPolicy>;
  /** What a busy session does with a new request that names no strategy (default `reject`). */
  sessionStrategy?: InterruptionStrategy;
  /** Names this process in job history (`started on <hostId>`); default `host-<pid>`. */
  hostId?: string;
  /**
   * Receives the resume token of every action a job creates (it is not stored, only its hash),
   * as the job's pause is written: the token answers the action once that write is done, a
   * moment later (until then it is an `InvalidResumeTokenError`, and it never works if the pause
   * fails, e.g. the job was cancelled meanwhile).
   */
  onActionRequired?: (info: { actionId: string; resumeToken: string; jobId: string; stepKey: string }) => void;
  /** Errors in the background (an event that could not be published, a run that crashed). */
  onError?: (error: unknown) => void;
  _internal?: { now?: () => number; random?: () => number; sleep?: (ms: number, signal: AbortSignal) => Promise<void> };
}

/** What `resume` did. */
export interface ResumeResult {
  action: ActionRecord;
  /** Present when the action reached its final state and the job runs again. */
  handle?: ExecutionHandle | undefined;
}

/**
 * The runtime's entry point: runs jobs (agents or workflows) as journaled steps, pauses them
 * for people and resumes them on any kernel over the same stores, enforces one active job per
 * session with interruption strategies, and publishes every state change as an event.
 */
export class RuntimeKernel implements HandleHost {
  readonly stores: RuntimeStores;
  readonly jobs: JobManager;
  readonly actions: ActionManager;
  private readonly engine: ModelExecutor | undefined;
  private readonly agents = new Map<string, Agent>();
  private readonly workflows = new Map<string, Workflow>();
  private readonly gate: ModelGate;
  private readonly retry: RetryPolicy;
  private readonly sessionStrategy: InterruptionStrategy;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly onActionRequired: RuntimeKernelOptions['onActionRequired'];
  private readonly onError: (error: unknown) => void;
  /** Jobs running in this process. */
  private readonly active = new Map<string, ActiveRun>();
  /** Session → its job running here. */
  private readonly sessions = new Map<string, string>();
  /** Session → jobs waiting for it (strategy `enqueue`). */
  private readonly sessionQueues = new Map<string, JobRecord[]>();
  /** Jobs cancelled here whose `result()` must reject at once. */
  private readonly cancelled = new Map<string, JobEndedError>();
  private closed = false;
  readonly hostId: string;
  readonly queue: JobQueue | undefined;
  private readonly workers = new Set<Worker>();

  private constructor(options: RuntimeKernelOptions) {
    const stores = options.stores ?? {};
    const events = stores.events ?? new InMemoryEventBus();
    this.stores = {
      jobs: stores.jobs ?? new InMemoryJobStore(),
      journal: stores.journal ?? new InMemoryJournalStore(),
      events,
      actions: stores.actions ?? new InMemoryActionStore(),
      signals: stores.signals ?? new InMemorySignalChannel(),
    };
    this.now = options._internal?.now ?? Date.now;
    this.random = options._internal?.random ?? Math.random;
    this.sleep = options._internal?.sleep ?? defaultSleep;
    this.jobs = new JobManager({ store: this.stores.jobs, events, now: this.now });
    this.actions = new ActionManager({ store: this.stores.actions, signals: this.stores.signals, now: this.now, ...(options.actionTypes ? { actionTypes: options.actionTypes } : {}) });
    this.engine = options.engine;
    if (options.agent) this.agents.set('default', options.agent);
    for (const [name, agent] of Object.entries(options.agents ?? {})) this.agents.set(name, agent);
    this.workflows.set('agent', agentWorkflow((name) => this.agents.get(name)));
    for (const [name, wf] of Object.entries(options.workflows ?? {})) {
      if (typeof wf !== 'function') throw new InvalidArgumentError(`workflows.${name}`, 'must be a function (ctx, input) => output');
      this.workflows.set(name, wf);
    }
    this.gate = new ModelGate({ policy: options.policy, ledger: options.ledger });
    this.retry = { maxAttempts: options.retry?.maxAttempts ?? 3, initialDelayMs: options.retry?.initialDelayMs ?? 200, maxDelayMs: options.retry?.maxDelayMs ?? 10_000 };
    if (!Number.isInteger(this.retry.maxAttempts) || this.retry.maxAttempts < 1) throw new InvalidArgumentError('retry.maxAttempts', 'must be an integer ≥ 1');
    this.sessionStrategy = options.sessionStrategy ?? 'reject';
    this.onActionRequired = options.onActionRequired;
    this.onError = options.onError ?? (() => {});
    this.hostId = options.hostId ?? `host-${process.pid}`;
    this.queue = options.queue;
  }

  static create(options: RuntimeKernelOptions = {}): RuntimeKernel {
    return new RuntimeKernel(options);
  }

  /** Registers a workflow after creation (every host that may resume its jobs needs it). */
  registerWorkflow(name: string, workflow: Workflow): void {
    if (!name) throw new InvalidArgumentError('name', 'a workflow needs a name');
    this.workflows.set(name, workflow);
  }

  registerAgent(name: string, agent: Agent): void {
    this.agents.set(name, agent);
  }

  /**
   * Creates a job and starts it in this process. Idempotent by `idempotencyKey` (the same key
   * returns a handle on the first job). A session with an active job follows the strategy.
   */
  async execute(request: ExecutionRequest): Promise<ExecutionHandle> {
    this.assertOpen();
    const parsed = ExecutionRequestSchema.safeParse(request);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidArgumentError(`request${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, issue?.message ?? 'invalid request', parsed.error);
    }
    const req = parsed.data;
    const workflow = req.workflow ?? 'agent';
    if (!this.workflows.has(workflow)) throw new UnknownWorkflowError(workflow);
    if (workflow === 'agent' && !this.agents.has(req.agent ?? 'default')) throw new UnknownWorkflowError(`agent:${req.agent ?? 'default'}`);

    if (req.idempotencyKey) {
      const existing = await this.stores.jobs.findByIdempotencyKey({ scopeId: req.scopeId, idempotencyKey: req.idempotencyKey });
      if (existing) return new ExecutionHandle(this, existing, false);
    }
    if (req.parentJobId !== undefined && !(await this.stores.jobs.get({ jobId: req.parentJobId, scopeId: req.scopeId }))) {
      throw new InvalidArgumentError('request.parentJobId', `no job '${req.parentJobId}' in scope '${req.scopeId}'`);
    }

    let previousContext: PreviousContext | undefined;
    let enqueue = false;
    const strategy = req.strategy ?? this.sessionStrategy;
    const newJobId = `job_${crypto.randomUUID()}`;
    if (req.sessionId) {
      const busy = await this.findActiveJob(req.scopeId, req.sessionId);
      if (busy) {
        switch (strategy) {
          case 'reject':
            throw new SessionBusyError(req.sessionId, busy.id);
          case 'enqueue':
            enqueue = true;
            break;
          case 'interrupt':
          case 'rollback':
            previousContext = await this.interrupt(busy, strategy, newJobId);
            break;
        }
      }
    }

    const metadata: JsonObject = { ...(req.metadata ?? {}), workflow };
    if (req.agent) metadata['agent'] = req.agent;
    if (req.traceId) metadata['traceId'] = req.traceId;
    if (req.timeoutSeconds) metadata['timeoutSeconds'] = req.timeoutSeconds;
    if (previousContext) metadata['previousContext'] = previousContext;
    const spec = {
      jobId: newJobId,
      scopeId: req.scopeId,
      principalId: req.principalId,
      sessionId: req.sessionId,
      parentJobId: req.parentJobId,
      idempotencyKey: req.idempotencyKey,
      priority: req.priority,
      input: req.input,
      budgets: req.budgets,
      policyRef: req.policyRef,
      metadata,
    };
    if (this.queue) {
      // Workers run the jobs: created and put on the queue with their wake-up (one write where the stores share a database).
      const plan = this.jobs.planCreate(spec);
      const { job, created } = await this.queue.enqueueNewJob({ store: this.stores.jobs, job: plan.job, outbox: { bus: this.stores.events, events: plan.events } }, this.wakeWorkers(plan.job));
      return new ExecutionHandle(this, job, created);
    }
    // Without workers the job runs here: created already started, unless it waits for its session.
    const waitsForSession = enqueue ? req.sessionId : undefined;
    const { job, created } = await this.jobs.create(spec, waitsForSession ? {} : { start: { reason: `started on ${this.hostId}` } });
    if (!created) return new ExecutionHandle(this, job, false);
    if (waitsForSession) {
      const key = sessionKey(job.scopeId, waitsForSession);
      const queue = this.sessionQueues.get(key) ?? [];
      queue.push(job);
      this.sessionQueues.set(key, queue);
      // The active job may have ended while this one was being created.
      if (!this.sessions.has(key)) this.startNextInSession(job.scopeId, waitsForSession);
    } else {
      this.launch(job, 'start', { fresh: true });
    }
    return new ExecutionHandle(this, job, true);
  }

  /**
   * Answers an action with its resume token. When the action reaches its final state (enough
   * approvals, a rejection), its job runs again here, continuing from its journal. Bad tokens
   * and malformed resolutions are typed errors that change nothing.
   */
  async resume(resumeToken: string, resolution: unknown, options: { scopeId: string; principalId: string; comment?: string }): Promise<ResumeResult> {
    this.assertOpen();
    // The action is read with its job; a final answer to a job waiting here is written with the
    // job's resume (one write where the stores share transactions), while the job's journal and
    // actions are read.
    let job: JobRecord | undefined;
    let reads: ResumeReads | undefined;
    let resumed: { job: JobRecord; reads: EarlyReads } | undefined;
    let enqueued: JobRecord | undefined;
    const action = await this.actions.resolve(resumeToken, resolution, {
      ...options,
      find: async (query) => {
        // Where the stores share a database, the job's journal and actions come with this read (a run here needs them; a worker would read its own).
        const found = await this.stores.actions.getByTokenHashWithJob(query, this.stores.jobs, this.queue ? undefined : { journal: this.stores.journal });
        job = found?.job;
        reads = found?.reads;
        return found?.action;
      },
      write: async (answer, signal) => {
        resumed = undefined;
        const waiting = job;
        if (answer.record.status !== 'pending' && waiting && this.queue && isWaitingFor(waiting, answer.record)) {
          // Workers run the jobs: the answer, its announcement and the job's return to the queue in one write.
          const written = await this.stores.actions.compareAndSetWithEnqueue(answer, {
            queue: this.queue,
            options: { jobId: waiting.id, scopeId: waiting.scopeId, priority: waiting.priority },
            wake: this.wakeWorkers(waiting),
            outbox: { bus: this.stores.events, events: [resolvedEvent(answer.record)] },
            answered: signal,
          });
          if (written.ok) enqueued = waiting;
          return written;
        }
        if (answer.record.status === 'pending' || !waiting || !this.resumesHere(waiting, answer.record)) return this.stores.actions.compareAndSet(answer);
        const ref = { jobId: waiting.id, scopeId: waiting.scopeId };
        const plan = this.jobs.planResume({ ...ref, current: waiting, reason: `resumed on ${this.hostId}`, events: [resolvedEvent(answer.record)] });
        const writing = this.stores.actions.compareAndSetWithJobUpdate(answer, { store: this.stores.jobs, job: plan.job, outbox: { bus: this.stores.events, events: plan.events }, signal });
        // Journal and actions read with the action are parsed while the write is under way; else they are read now.
        const read = reads;
        const loaded = read ? whileWriting(() => read.journal()) : this.stores.journal.load(ref);
        const listed = read ? whileWriting(() => read.actions()) : this.stores.actions.listByJob(ref);
        loaded.catch(() => undefined);
        listed.catch(() => undefined);
        const written = await writing;
        if (written.action.ok) {
          const answered = written.action.record;
          if (written.job) {
            // The list may have been read before the answer was written: it holds the answered record.
            const actions = listed.then((list) => list.map((a) => (a.id === answered.id && a.version < answered.version ? answered : a)));
            resumed = { job: written.job.job, reads: { loaded, actions } };
          } else {
            job = undefined; // it changed meanwhile: read it again
          }
        }
        return written.action;
      },
    });
    if (action.status === 'pending') return { action };
    if (enqueued) return { action, handle: new ExecutionHandle(this, enqueued, false) };
    if (resumed) {
      this.launch(resumed.job, 'resume', { resumed: resumed.reads });
      return { action, handle: new ExecutionHandle(this, resumed.job, false) };
    }
    const handle = await this.resumeWaiting(action.jobId, action.scopeId, [resolvedEvent(action)], job ? Promise.resolve(job) : undefined);
    return { action, handle };
  }

  /** Whether a job read with its action can be resumed by this kernel with the answer's write (no queue, not still ending a run here). */
  private resumesHere(job: JobRecord, action: ActionRecord): boolean {
    return !this.queue && isWaitingFor(job, action) && !this.active.has(job.id);
  }

  /** Runs a job that waits for an action whose answer is in (after `resume` elsewhere, or an expiry default). */
  async resumeJob(jobId: string, scopeId: string): Promise<ExecutionHandle | undefined> {
    return this.resumeWaiting(jobId, scopeId, [], undefined);
  }

  /** `resumeJob` with events that announce the resume (`action.resolved`) and the job's read already under way, when the caller started it. */
  private async resumeWaiting(jobId: string, scopeId: string, announce: readonly RuntimeEventInput[], jobRead: Promise<JobRecord | undefined> | undefined): Promise<ExecutionHandle | undefined> {
    const job = await (jobRead ?? this.stores.jobs.get({ jobId, scopeId }));
    if (job?.status === 'waiting_for_action' && !this.queue) {
      // The run that paused it may still be winding down here (an answer that came at once).
      const ending = this.active.get(job.id);
      if (ending) await ending.done.catch(() => undefined);
      // The announcement (`action.resolved`) is written with the job's resume.
      this.launch(job, 'resume', { announce });
      return new ExecutionHandle(this, job, false);
    }
    if (!job || job.status !== 'waiting_for_action') {
      if (announce.length > 0) await this.stores.events.publishMany(announce);
      return job ? new ExecutionHandle(this, job, false) : undefined;
    }
    // The announcement is written before workers are woken, so it precedes the job's resume.
    await this.enqueue(job, announce);
    return new ExecutionHandle(this, job, false);
  }

  /** Expires due actions (applying their timeout behaviour) and resumes the jobs whose actions got a final answer. */
  async sweepExpiredActions(): Promise<number> {
    const result = await this.actions.expireDue({ now: this.now() });
    const touched = new Map<string, string>();
    for (const r of result.outcomes) {
      if (r.escalation) {
        // The request moves to the escalation's approvers: hand out its token; the job keeps waiting.
        const { action, resumeToken } = r.escalation;
        await this.stores.events.publish({ type: 'action.escalated', jobId: action.jobId, scopeId: action.scopeId, data: { actionId: r.action.id, escalatedToActionId: action.id, principalIds: action.approvers } });
        try {
          this.onActionRequired?.({ actionId: action.id, resumeToken, jobId: action.jobId, stepKey: action.stepKey });
        } catch (error) {
          this.onError(error);
        }
        continue;
      }
      await this.stores.events.publish({ type: 'action.expired', jobId: r.action.jobId, scopeId: r.action.scopeId, data: { actionId: r.action.id, actionType: r.action.type, outcome: r.outcome } });
      touched.set(r.action.jobId, r.action.scopeId);
    }
    for (const [jobId, scopeId] of touched) await this.resumeJob(jobId, scopeId);
    return touched.size;
  }

  async getJob(jobId: string, scopeId: string): Promise<JobRecord | undefined> {
    return this.stores.jobs.get({ jobId, scopeId });
  }

  listJobs(options: ListJobsOptions): Promise<JobPage> {
    return this.stores.jobs.list(options);
  }

  /** A handle on an existing job (for `result()`, `events()`, `cancel()` from another host). */
  async handle(jobId: string, scopeId: string): Promise<ExecutionHandle | undefined> {
    const job = await this.stores.jobs.get({ jobId, scopeId });
    return job ? new ExecutionHandle(this, job, false) : undefined;
  }

  /** The last `limit` (default 5) interrupted contexts of a session, newest first. */
  async interruptedContexts(options: { scopeId: string; sessionId: string; limit?: number }): Promise<PreviousContext[]> {
    const page = await this.stores.jobs.list({ scopeId: options.scopeId, sessionId: options.sessionId, status: ['interrupted'], order: 'desc', limit: options.limit ?? 5 });
    return page.jobs.map((j) => (j.result as { interrupted?: PreviousContext } | undefined)?.interrupted).filter((c): c is PreviousContext => c !== undefined);
  }

  /**
   * Cancels a job. A job running here stops at once: unless it had begun writing its end
   * already, `result()` rejects immediately, and the returned promise resolves once the
   * cancellation is recorded. A waiting one has its actions cancelled.
   */
  async cancel(jobId: string, scopeId: string, reason?: string): Promise<JobRecord | undefined> {
    const run = this.active.get(jobId);
    if (run && run.scopeId === scopeId) {
      const ended = new JobEndedError(jobId, 'cancelled', reason ?? 'cancelled');
      // A run that has not begun writing its end checks its signal before that write, so it
      // ends cancelled whatever its code does next: `result()` can reject now, even when the
      // model call ignores the abort and the run unwinds late. The record follows.
      // Waiters are released before the abort, so that they do not queue behind the run unwinding.
      const decided = !run.ending.value;
      if (decided) this.cancelledHere(run, ended);
      run.controller.abort(new StopSignal({ kind: 'cancel', reason }));
      // The record is written on the next turn of the event loop, after the waiters released above.
      if (decided) await new Promise((resolve) => setImmediate(resolve));
      let cancelled: JobRecord | undefined;
      try {
        cancelled = await this.jobs.cancel({ jobId, scopeId, reason: reason ?? 'cancelled' });
        // Written while the run was writing its end: that write lost, and the job ends cancelled.
        if (!decided) this.cancelled.set(jobId, ended);
      } catch {
        // Already ended (the run finished first, or records its cancellation itself).
      }
      this.settle(jobId, cancelled);
      const outcome = await run.done;
      if (!decided && cancelled) this.cancelled.delete(jobId);
      return cancelled ?? outcome.job;
    }
    const job = await this.stores.jobs.get({ jobId, scopeId });
    if (!job || isTerminalJobStatus(job.status)) return job;
    if (job.status === 'running') {
      // Running on another host. The cancellation is written here, so that it holds even if that
      // host never hears of it (a lost signal, a crash); its journal's fence goes past the run's
      // lease, so that a run that missed the signal writes no further step (and so starts none);
      // the signal asks it to stop at once.
      let cancelled: JobRecord;
      try {
        cancelled = await this.jobs.cancel({ jobId, scopeId, reason: reason ?? 'cancelled' });
      } catch (error) {
        // Ended meanwhile (completed, failed): its own outcome stands.
        if (BatonError.isInstance(error) && error.code === 'illegal_transition') return this.stores.jobs.get({ jobId, scopeId });
        throw error;
      }
      await this.fenceOut(job);
      await this.stores.signals.publish(signalChannelName({ kind: 'job.cancelled' }), { schemaVersion: 1, kind: 'job.cancelled', scopeId, subjectId: jobId, at: this.now() }).catch(this.onError);
      return cancelled;
    }
    await this.actions.cancelJobActions({ jobId, scopeId }).catch(this.onError);
    return this.jobs.cancel({ jobId, scopeId, reason: reason ?? 'cancelled' });
  }

  // ---- HandleHost -------------------------------------------------------------------------

  events(jobId: string, scopeId: string, options: { fromSeq?: number | undefined; signal?: AbortSignal | undefined; untilPaused?: boolean | undefined } = {}): AsyncIterable<RuntimeEvent> {
    return this.stores.events.stream({
      jobId,
      scopeId,
      fromSeq: options.fromSeq ?? 1,
      signal: options.signal,
      until: (e) => TERMINAL_JOB_EVENT_TYPES.has(e.type) || (options.untilPaused === true && e.type === 'job.waiting'),
    });
  }

  async result(jobId: string, scopeId: string): Promise<JobResult> {
    const job = await this.waitFor(jobId, scopeId, false);
    if (job.status !== 'completed' && this.cancelled.has(jobId)) throw this.cancelled.get(jobId)!;
    if (job.status === 'completed') return { jobId, output: job.result, job };
    const cancelled = this.cancelled.get(jobId);
    if (cancelled) throw cancelled;
    throw endedError(job);
  }

  settled(jobId: string, scopeId: string): Promise<JobRecord> {
    return this.waitFor(jobId, scopeId, true);
  }

  /**
   * Starts a worker that claims jobs from the kernel's queue and runs them here under a lease.
   * Any number of kernels on any hosts can run workers over the same stores and queue.
   */
  async startWorker(options: WorkerOptions = {}): Promise<Worker> {
    this.assertOpen();
    const queue = this.queue;
    if (!queue) throw new InvalidArgumentError('queue', 'startWorker needs a kernel created with a queue');
    const host: WorkerHost = {
      hostId: this.hostId,
      queue,
      reads: { journal: this.stores.journal, actions: this.stores.actions },
      loadJob: (jobId, scopeId) => this.stores.jobs.get({ jobId, scopeId }),
      launchLeased: (job, mode, lease, reads) => this.launch(job, mode, { lease, read: reads && readsOf(reads) }),
      sessionBusy: async (job) => {
        if (!job.sessionId) return false;
        const page = await this.stores.jobs.list({ scopeId: job.scopeId, sessionId: job.sessionId, status: ['running'], limit: 2 });
        return page.jobs.some((j) => j.id !== job.id);
      },
      markDeadLettered: async (jobId, scopeId, reason, claims) => {
        const job = await this.stores.jobs.get({ jobId, scopeId });
        if (job && !isTerminalJobStatus(job.status)) await this.jobs.markDeadLettered({ jobId, scopeId, reason, claims });
      },
      onWake: async (handler) => {
        // Runs here hear cancels and interrupts of other hosts from before the first claim.
        this.listenForStops();
        return this.stores.signals.subscribe(signalChannelName({ kind: 'job.enqueued' }), () => handler());
      },
      onError: this.onError,
    };
    const worker = new Worker(host, options);
    await worker.start();
    this.workers.add(worker);
    return worker;
  }

  /** Stops the workers (handing back what they could not finish), cancels jobs running here, and waits for them. */
  async close(options: { deadlineMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.workers].map((w) => w.stop({ deadlineMs: options.deadlineMs ?? 0 })));
    this.workers.clear();
    const runs = [...this.active.values()];
    for (const run of runs) run.controller.abort(new StopSignal({ kind: 'shutdown' }));
    await Promise.allSettled(runs.map((r) => r.done));
    const stopListening = await this.stopsListened;
    this.stopsListened = undefined;
    await stopListening?.().catch(this.onError);
  }

  /** The subscription to cancels and interrupts sent by other hosts; its removal once taken. */
  private stopsListened: Promise<(() => Promise<void>) | undefined> | undefined;

  /**
   * Subscribes (once) to the cancels and interrupts other hosts send for jobs running here: taken
   * when this kernel first runs a job or starts a worker, whether or not workers run its jobs.
   */
  private listenForStops(): void {
    if (this.stopsListened || this.closed) return;
    const pending = Promise.allSettled([
      this.stores.signals.subscribe(signalChannelName({ kind: 'job.cancelled' }), (sig) => this.onStopSignal(sig, 'cancel')),
      this.stores.signals.subscribe(signalChannelName({ kind: 'job.interrupted' }), (sig) => this.onStopSignal(sig, 'interrupt')),
    ]).then(async (settled) => {
      const offs = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const off = async () => {
        await Promise.all(offs.map((o) => o()));
      };
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (!failed) return off;
      // Not listening (a channel that failed for a moment): let go of what was taken; the next run tries again.
      this.onError(failed.reason);
      await off().catch(() => undefined);
      if (this.stopsListened === pending) this.stopsListened = undefined;
      return undefined;
    });
    this.stopsListened = pending;
  }

  // ---- internals --------------------------------------------------------------------------

  private readonly waiters = new Map<string, Set<(job?: JobRecord) => void>>();

  /** Resolves with the job once it is terminal (or, with `orPaused`, waiting for an action). */
  private async waitFor(jobId: string, scopeId: string, orPaused: boolean): Promise<JobRecord> {
    // A run that ends here hands over the record it wrote last: no need to read it back.
    let settled: JobRecord | undefined;
    // A job running here is not resting yet: wait for its run to end (it hands over the record).
    if (this.active.has(jobId) && !this.queue && !this.cancelled.has(jobId)) settled = await this.nextChange(jobId, scopeId, orPaused);
    for (;;) {
      // A cancel decided here: `result()` rejects without waiting for the record.
      if (!orPaused && settled === undefined && this.cancelled.has(jobId)) throw this.cancelled.get(jobId)!;
      const job = settled ?? (await this.stores.jobs.get({ jobId, scopeId }));
      settled = undefined;
      if (job && this.cancelled.has(jobId) && !orPaused) return job;
      if (!job) throw new InvalidArgumentError('jobId', `no job '${jobId}' in scope '${scopeId}'`);
      const resting = isTerminalJobStatus(job.status) || (orPaused && job.status === 'waiting_for_action');
      if (resting) return job;
      settled = await this.nextChange(jobId, scopeId, orPaused);
    }
  }

  /** Waits for a local settle of the job or a job event from another host, whichever first. */
  private nextChange(jobId: string, scopeId: string, orPaused: boolean): Promise<JobRecord | undefined> {
    return new Promise<JobRecord | undefined>((resolve) => {
      let done = false;
      let stopFollowing: (() => void) | undefined;
      const finish = (job?: JobRecord) => {
        if (done) return;
        done = true;
        stopFollowing?.();
        set.delete(finish);
        resolve(job);
      };
      const set = this.waiters.get(jobId) ?? new Set();
      set.add(finish);
      this.waiters.set(jobId, set);
      // A job running here settles locally; one that may run elsewhere (another kernel resumed
      // it, or workers share a queue) is followed on the event bus.
      if (!this.active.has(jobId) || this.queue) {
        const unsubscribe = this.stores.events.subscribe(
          (e) => {
            if (TERMINAL_JOB_EVENT_TYPES.has(e.type) || (orPaused && e.type === 'job.waiting')) {
              unsubscribe();
              finish();
            }
          },
          // Events of other processes possibly missed: read the job again.
          { jobId, scopeId, onResync: () => check() },
        );
        // A change between our read and the subscription (read once the bus hears other
        // processes), or an event bus that does not reach this process: re-read, then every
        // `POLL_MS` until something changes.
        const check = () =>
          void this.stores.jobs.get({ jobId, scopeId }).then(
            (j) => {
              // Only a state the caller waits for: a job waiting for a person is no change to
              // someone waiting for its end (finishing here would spin, re-reading the job).
              if (j && (isTerminalJobStatus(j.status) || (orPaused && j.status === 'waiting_for_action'))) finish(j);
            },
            () => undefined,
          );
        const poll = setInterval(check, POLL_MS);
        poll.unref?.();
        stopFollowing = () => {
          unsubscribe();
          clearInterval(poll);
        };
        if (done) stopFollowing();
        else {
          const first = () => {
            if (!done) check();
          };
          void this.stores.events.ready().then(first, first);
        }
      }
    });
  }

  private settle(jobId: string, job?: JobRecord): void {
    const set = this.waiters.get(jobId);
    if (!set) return;
    this.waiters.delete(jobId);
    for (const fn of set) fn(job);
  }

  /**
   * Runs a job here. `fresh`: it was created here a moment ago (no journal to read yet);
   * `announce`: events written with its start or resume; `resumed`: its resume is written
   * already (with its action's answer), and its journal and actions are being read; `read`: its
   * journal and actions, read already (with a worker's claim), its resume not written yet.
   */
  private launch(
    job: JobRecord,
    mode: RunMode,
    options: { lease?: RunLease | undefined; fresh?: boolean | undefined; announce?: readonly RuntimeEventInput[] | undefined; resumed?: EarlyReads | undefined; read?: EarlyReads | undefined } = {},
  ): ActiveRun {
    const { lease, fresh = false, announce = [], resumed, read } = options;
    const existing = this.active.get(job.id);
    if (existing) {
      if (announce.length > 0) void this.stores.events.publishMany(announce).catch(this.onError);
      return existing;
    }
    const timeoutSeconds = job.metadata['timeoutSeconds'];
    const run = startRun(
      {
        jobs: this.jobs,
        journal: this.stores.journal,
        events: this.stores.events,
        actions: this.actions,
        engine: this.engine,
        gate: this.gate,
        retry: this.retry,
        now: this.now,
        sleep: this.sleep,
        random: this.random,
        resolveWorkflow: (j) => this.workflows.get(String(j.metadata['workflow'] ?? 'agent')),
        onActionRequired: (info) => {
          try {
            this.onActionRequired?.(info);
          } catch (error) {
            this.onError(error);
          }
        },
        onError: this.onError,
        hostId: this.hostId,
      },
      job,
      mode,
      // A worker's run (under a lease) acks its lease with its completion.
      { timeoutMs: typeof timeoutSeconds === 'number' ? timeoutSeconds * 1000 : undefined, lease, fresh, announce, resumed, read, ackOn: lease ? this.queue : undefined },
    );
    this.active.set(job.id, run);
    this.listenForStops();
    const skey = job.sessionId ? sessionKey(job.scopeId, job.sessionId) : undefined;
    if (skey) this.sessions.set(skey, job.id);
    void run.done.then(
      (outcome) => this.onRunEnd(run, outcome, skey),
      (error: unknown) => {
        this.onError(error);
        this.onRunEnd(run, undefined, skey);
      },
    );
    return run;
  }

  /**
   * Puts a job on the queue and wakes idle workers on every host, after `announce` (events a
   * woken worker's writes must follow): one statement where the queue, the signals and the bus
   * share a database.
   */
  private async enqueue(job: JobRecord, announce: readonly RuntimeEventInput[] = []): Promise<void> {
    await this.queue!.enqueueAndSignal(
      { jobId: job.id, scopeId: job.scopeId, priority: job.priority },
      this.wakeWorkers(job),
      announce.length > 0 ? { bus: this.stores.events, events: announce } : undefined,
    );
  }

  /** The wake-up of idle workers on every host for a job put on the queue. */
  private wakeWorkers(job: JobRecord): { channels: SignalChannel; channel: string; signal: Signal; onSignalError: (error: unknown) => void } {
    const signal: Signal = { schemaVersion: 1, kind: 'job.enqueued', scopeId: job.scopeId, subjectId: job.id, at: this.now() };
    return { channels: this.stores.signals, channel: signalChannelName({ kind: 'job.enqueued' }), signal, onSignalError: this.onError };
  }

  /** A cancel or interrupt requested on another host for a job running here. */
  private onStopSignal(signal: Signal, kind: 'cancel' | 'interrupt'): void {
    const run = this.active.get(signal.subjectId);
    if (!run || run.scopeId !== signal.scopeId) return;
    if (kind === 'cancel') {
      // Written already by the host that cancelled it: unless the run had begun writing its end,
      // it ends cancelled, and `result()` here rejects at once, as for a cancel made here.
      if (!run.ending.value && !this.cancelled.has(run.jobId)) this.cancelledHere(run, new JobEndedError(run.jobId, 'cancelled', 'cancelled from another host'));
      run.controller.abort(new StopSignal({ kind: 'cancel', reason: 'cancelled from another host' }));
    } else {
      const data = signal.data as { strategy?: string; byJobId?: string } | undefined;
      run.controller.abort(new StopSignal({ kind: 'interrupt', strategy: data?.strategy === 'rollback' ? 'rollback' : 'interrupt', byJobId: data?.byJobId }));
    }
  }

  /**
   * A cancel that decides how `run` ends (it had not begun writing its end): `result()` waiters
   * reject with `ended` now, and so does `result()` until the run is over and its record says so.
   */
  private cancelledHere(run: ActiveRun, ended: JobEndedError): void {
    this.cancelled.set(run.jobId, ended);
    this.settle(run.jobId);
    const forget = () => void this.cancelled.delete(run.jobId);
    void run.done.then(forget, forget);
  }

  /** Raises a job's journal fence past the lease of the worker running it elsewhere: that run stores no further step. */
  private async fenceOut(job: JobRecord): Promise<void> {
    if (job.leaseOwner === undefined) return;
    await this.stores.journal.fence({ jobId: job.id, scopeId: job.scopeId, leaseEpoch: job.leaseEpoch + 1 }).catch(this.onError);
  }

  private onRunEnd(run: ActiveRun, outcome: RunOutcome | undefined, skey: string | undefined): void {
    this.active.delete(run.jobId);
    if (skey && this.sessions.get(skey) === run.jobId) this.sessions.delete(skey);
    this.settle(run.jobId, outcome?.job);
    if (skey && run.sessionId) this.startNextInSession(run.scopeId, run.sessionId);
  }

  private startNextInSession(scopeId: string, sessionId: string): void {
    const key = sessionKey(scopeId, sessionId);
    const queue = this.sessionQueues.get(key);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.sessionQueues.delete(key);
    if (next) this.launch(next, 'start');
  }

  /** The session's active job: running here, or running/waiting/queued anywhere per the store. */
  private async findActiveJob(scopeId: string, sessionId: string): Promise<JobRecord | undefined> {
    const localId = this.sessions.get(sessionKey(scopeId, sessionId));
    if (localId) {
      const run = this.active.get(localId);
      if (run) {
        const job = await this.stores.jobs.get({ jobId: localId, scopeId });
        if (job && !isTerminalJobStatus(job.status)) return job;
      }
    }
    const page = await this.stores.jobs.list({ scopeId, sessionId, status: ['running', 'waiting_for_action', 'queued'], order: 'desc', limit: 1 });
    return page.jobs[0];
  }

  /**
   * Stops the session's active job for a newer one. `interrupt` keeps its partial results and
   * returns them (for the new job's `previousContext`); `rollback` discards them.
   */
  private async interrupt(job: JobRecord, strategy: 'interrupt' | 'rollback', byJobId: string): Promise<PreviousContext | undefined> {
    await this.stores.events.publish({ type: 'interruption.requested', jobId: job.id, scopeId: job.scopeId, sessionId: job.sessionId, data: { strategy, sessionId: job.sessionId, byJobId } });
    const run = this.active.get(job.id);
    if (run) {
      run.controller.abort(new StopSignal({ kind: 'interrupt', strategy, byJobId }));
      const outcome = await run.done;
      return outcome.status === 'interrupted' ? outcome.previousContext : undefined;
    }
    const ref = { jobId: job.id, scopeId: job.scopeId };
    if (job.status === 'running') {
      // On another host: ask it to stop; it records the partial results it had.
      await this.stores.signals.publish(signalChannelName({ kind: 'job.interrupted' }), { schemaVersion: 1, kind: 'job.interrupted', scopeId: job.scopeId, subjectId: job.id, at: this.now(), data: { strategy, byJobId } }).catch(this.onError);
      // Wait (bounded) for that host to record what the job had achieved.
      const ended = await Promise.race([this.waitFor(job.id, job.scopeId, false).catch(() => undefined), delay(REMOTE_INTERRUPT_WAIT_MS)]);
      if (ended) return (ended.result as { interrupted?: PreviousContext } | undefined)?.interrupted;
      // No answer (the signal lost, the host gone): the interruption is written here, from the
      // journal as it stands once fenced past that host's lease (a run still going stores no
      // further step), so that the session does not run two jobs at once.
      await this.fenceOut(job);
    }
    // Waiting for an action, or queued (or running elsewhere, unanswered): nothing runs here; its journal is what it achieved.
    await this.actions.cancelJobActions(ref).catch(this.onError);
    if (strategy === 'rollback' || job.status === 'queued') {
      // A job that never started has nothing to hand on.
      await this.queue?.remove(ref).catch(this.onError);
      await this.jobs.cancel({ ...ref, reason: `rolled back by ${byJobId}` });
      return undefined;
    }
    const journal = await StepJournal.load(this.stores.journal, ref);
    const previous = buildPreviousContext(job, journal, new Map(), this.now());
    try {
      await this.jobs.markInterrupted({ ...ref, byJobId, reason: 'interrupted by a newer message', result: { interrupted: previous } });
    } catch (error) {
      // It ended meanwhile (its host answered late): its own outcome stands.
      if (BatonError.isInstance(error) && error.code === 'illegal_transition') return undefined;
      throw error;
    }
    return previous;
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidArgumentError('kernel', 'this kernel is closed');
  }
}

/** How often a waiter re-reads a job that runs elsewhere, in case no event reaches it. */
const POLL_MS = 500;

/** How long a newer message waits for the host running the session's job to record its interruption. */
const REMOTE_INTERRUPT_WAIT_MS = 5_000;

/** Whether `job`, read with `action`, is its job and waits for an answer. */
function isWaitingFor(job: JobRecord, action: ActionRecord): boolean {
  return job.status === 'waiting_for_action' && job.id === action.jobId && job.scopeId === action.scopeId;
}

/** The `action.resolved` event of an answer that made its action final. */
function resolvedEvent(action: ActionRecord): RuntimeEventInput {
  const outcome = action.status === 'resolved' ? 'resolved' : action.status;
  return { type: 'action.resolved', jobId: action.jobId, scopeId: action.scopeId, data: { actionId: action.id, actionType: action.type, resolvedBy: action.resolvedBy, outcome } } as RuntimeEventInput;
}

function sessionKey(scopeId: string, sessionId: string): string {
  return `${scopeId}\u0000${sessionId}`;
}

function endedError(job: JobRecord): JobEndedError {
  const status = job.status === 'cancelled' || job.status === 'interrupted' || job.status === 'dead_lettered' ? job.status : 'failed';
  const message = job.error?.message ?? job.stateHistory[job.stateHistory.length - 1]?.reason ?? (status === 'failed' ? `ended as ${job.status}` : status);
  return new JobEndedError(job.id, status, message, job.error?.code);
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref?.());
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A job's journal and actions read with its claim, parsed while its resume is written. */
function readsOf(reads: ResumeReads): EarlyReads {
  return { loaded: whileWriting(() => reads.journal()), actions: whileWriting(() => reads.actions()) };
}

/** Runs `parse` once the event loop has sent what is queued (a statement just issued), so that it overlaps the statement's round trip. */
function whileWriting<T>(parse: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        resolve(parse());
      } catch (error) {
        reject(error);
      }
    });
  });
}
