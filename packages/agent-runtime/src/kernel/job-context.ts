import {
  AbortError,
  InvalidArgumentError,
  type Agent,
  type AgentResult,
  type AgentRunOptions,
  type CompletionSpec,
  type EngineCallOptions,
  type Message,
  type ModelExecutor,
  type ModelResponse,
  RequestContext,
} from '@baton/llm-client';
import type { ActionSpec } from '../actions/action-spec.js';
import type { ActionRecord } from '../ports/action-store.js';
import { ActionExpiredError } from '../errors/action-errors.js';
import type { ActionManager } from '../actions/action-manager.js';
import type { ExecutionContext } from '../context/execution-context.js';
import type { RuntimeEventType } from '../events/runtime-event-type.js';
import type { RuntimeEventInput } from '../events/runtime-event.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { JsonObject, JsonValue } from '../jobs/json-value.js';
import type { JournalStepKind } from '../journal/journal-entry.js';
import type { JournalStore } from '../ports/journal-store.js';
import type { RuntimeEventDataMap } from '../events/runtime-event-data.js';
import { journalMiddleware } from './journal-middleware.js';
import type { EventEmitterChain } from './event-chain.js';
import { hashInput, type StepJournal } from './step-journal.js';
import { SUSPEND, type PreviousContext } from './run-control.js';
import type { ModelGate } from './model-gate.js';

export interface StepOptions {
  /** What the step is (default `custom`). */
  kind?: JournalStepKind;
  /** Checked on replay: a different input at the same step is a divergence. */
  input?: unknown;
  /** A short human-readable summary kept in the journal (never secrets). */
  summary?: string;
}

/** What a step function receives. */
export interface StepHandle {
  /** Stable across resumes and hosts (`${jobId}:${stepId}`): use it as an external idempotency key. */
  readonly key: string;
  readonly signal: AbortSignal;
}

/** The outcome of `waitForAction`: how the person answered. */
export interface ActionOutcome {
  actionId: string;
  status: 'resolved' | 'rejected' | 'expired' | 'cancelled' | 'escalated';
  /** The parsed resolution (for `approval`: `{ approved, comment? }`). */
  resolution: JsonValue | undefined;
  resolvedBy: string | undefined;
}

/** A request for a person made by a run, stored with the job's pause. */
export interface PendingAction {
  readonly action: ActionRecord;
  readonly resumeToken: string;
  readonly stepKey: string;
  /** Its `action.required` event, published with the pause. */
  readonly event: RuntimeEventInput;
}

/** What the kernel gives a job's code while it runs. */
export interface JobContextInit {
  job: JobRecord;
  journal: StepJournal;
  journalStore: JournalStore;
  events: EventEmitterChain;
  actions: ActionManager;
  engine: ModelExecutor | undefined;
  modelGate: ModelGate;
  signal: AbortSignal;
  leaseEpoch: number | undefined;
  previousContext: PreviousContext | undefined;
  now: () => number;
  /** Partial model output of steps in flight, by step id (read on interruption). */
  partials: Map<string, string>;
  /**
   * Requests made by this run, not stored yet: the runner hands out their tokens and stores them
   * with the job's pause (one write where the stores share transactions).
   */
  pausing: PendingAction[];
  /** The job's actions (the runner may know them already: none for a new job, prefetched on resume). Default: read. */
  jobActions?: (() => Promise<readonly ActionRecord[]>) | undefined;
}

/**
 * A running job's handle on the runtime. Every `step`, `callModel`, `runAgent` call and
 * `waitForAction` is a journaled step: when the job runs again (resumed after a pause, taken
 * over after a crash, retried after a failure), finished steps return their recorded results
 * without running again, and the job continues from the first unfinished one.
 *
 * Job code must be deterministic between steps (branch only on inputs and step results) and
 * must not swallow the runtime's own control flow: do not wrap `waitForAction` or `runAgent`
 * in a catch-all; rethrow anything `JobContext.isControlSignal(e)` says is one.
 */
export class JobContext {
  readonly jobId: string;
  readonly scopeId: string;
  readonly principalId: string;
  readonly sessionId: string | undefined;
  readonly input: JsonValue;
  readonly signal: AbortSignal;
  /** When this job was started by interrupting another one: what that one had achieved. */
  readonly previousContext: PreviousContext | undefined;
  readonly requestContext: RequestContext;
  private nextStep = 0;

  constructor(private readonly init: JobContextInit) {
    const { job } = init;
    this.jobId = job.id;
    this.scopeId = job.scopeId;
    this.principalId = job.principalId;
    this.sessionId = job.sessionId;
    this.input = job.input;
    this.signal = init.signal;
    this.previousContext = init.previousContext;
    this.requestContext = RequestContext.create({
      tenantId: job.scopeId,
      userId: job.principalId,
      sessionId: job.sessionId,
      jobId: job.id,
      traceId: typeof job.metadata['traceId'] === 'string' ? job.metadata['traceId'] : undefined,
    });
  }

  /** True for the runtime's internal control flow (a pause), which job code must rethrow. */
  static isControlSignal(error: unknown): boolean {
    return error === SUSPEND;
  }

  /** The execution context (scope, principal, budgets, policy) of this job. */
  get executionContext(): ExecutionContext {
    const { job } = this.init;
    return { scopeId: job.scopeId, principalId: job.principalId, sessionId: job.sessionId, jobId: job.id, budgets: job.budgets, policyRef: job.policyRef, signal: this.signal };
  }

  /** The agent the job names (`ExecutionRequest.agent`), if any. */
  get agentName(): string | undefined {
    const name = this.init.job.metadata['agent'];
    return typeof name === 'string' ? name : undefined;
  }

  /** The stable key of a step id. */
  stepKey(stepId: string): string {
    return `${this.jobId}:${stepId}`;
  }

  /** `emitOnResume` calls made by this run, by event digest (shared with scoped views). */
  private readonly resumeEventCalls = new Map<string, number>();

  /** Allocates the next top-level step id. */
  private allocate(): string {
    return String(this.nextStep++);
  }

  /**
   * A view of this context whose step ids come from `allocate` and whose abort signal is
   * `signal` (default: the job's); journal, policy, budgets, events and actions stay the job's.
   * Concurrent branches (operators, graph nodes) each get a view allocating under their own
   * prefix, so their steps keep the same ids whichever branch runs first; a branch's signal can
   * stop it without stopping the job.
   */
  withScope(options: { allocate: () => string; signal?: AbortSignal }): JobContext {
    if (typeof options?.allocate !== 'function') throw new InvalidArgumentError('allocate', 'must be a function returning the next step id');
    const view = Object.create(this) as JobContext;
    Object.defineProperty(view, 'allocate', { value: options.allocate });
    if (options.signal) Object.defineProperty(view, 'signal', { value: options.signal });
    return view;
  }

  /**
   * Runs `fn` once across every run of this job: its JSON result is journaled before the next
   * step starts; on a later run the recorded result is returned and `fn` is not called.
   */
  async step<T>(name: string, fn: (step: StepHandle) => Promise<T> | T, options: StepOptions = {}): Promise<T> {
    if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('name', 'a step needs a name');
    const stepId = this.allocate();
    return this.runStep(stepId, options.kind ?? 'custom', name, fn, options);
  }

  /** Journals a step under an explicit id (used by the agent middleware for nested steps). */
  async runStep<T>(stepId: string, kind: JournalStepKind, name: string, fn: (step: StepHandle) => Promise<T> | T, options: StepOptions = {}): Promise<T> {
    const recorded = this.init.journal.lookup(stepId, kind, name, options.input);
    if (recorded?.status === 'completed') return structuredClone(recorded.output) as T;
    this.throwIfStopped();
    // The steps that finished before this one starts are stored first: a crash during it re-runs none of them.
    if (this.init.journal.unsettled) await this.init.journal.settle();
    const key = this.stepKey(stepId);
    const startedAt = this.init.now();
    const base = { seq: 0, key, kind, name } as const;
    // Model and tool steps announce themselves with model.started / tool.started.
    if (kind !== 'model' && kind !== 'tool') this.emit('step.started', base);
    let output: T;
    try {
      output = await fn({ key, signal: this.signal });
    } catch (error) {
      if (error === SUSPEND) throw error;
      const durationMs = this.init.now() - startedAt;
      this.emit('step.failed', { ...base, durationMs, error: serialize(error) });
      throw error;
    }
    this.throwIfStopped();
    const durationMs = this.init.now() - startedAt;
    const step = { stepId, kind, name, input: options.input, inputSummary: options.summary, startedAt, durationMs, output: output === undefined ? null : output };
    if (this.init.journal.defers) {
      // Stored with the job's next write (the next step's, or its completion when it returns now), its event with it.
      const seq = this.init.journal.defer(step);
      this.emit('step.completed', { ...base, seq, durationMs });
      return output;
    }
    await this.init.journal.record(step, (seq) => [this.init.events.build('step.completed', { ...base, seq, durationMs })]);
    return output;
  }

  /**
   * One journaled model call through the kernel's engine (policy and the scope's budget are
   * checked first). With `stream: true` the text deltas are published as `model.delta` events.
   */
  async callModel<O = unknown>(spec: CompletionSpec<O>, options: { name?: string; stream?: boolean; engineOptions?: EngineCallOptions } = {}): Promise<ModelResponse & { object?: O }> {
    const engine = this.requireEngine();
    const stepId = this.allocate();
    const model = spec.model ?? engine.model.modelId;
    return this.runStep(
      stepId,
      'model',
      options.name ?? model,
      async ({ key }) => {
        const call: EngineCallOptions = { context: this.requestContext, signal: this.signal, ...options.engineOptions };
        return this.init.modelGate.run({ ctx: this, stepId, stepKey: key, model, request: spec }, async () => {
          if (!options.stream) return engine.complete(spec, call);
          const stream = engine.stream(spec, call);
          stream.response.catch(() => undefined);
          let partial = '';
          for await (const event of stream) {
            if (event.type === 'text-delta') {
              partial += event.delta;
              this.init.partials.set(stepId, partial);
              this.emit('model.delta', { model, stepKey: key, textDelta: event.delta });
            }
          }
          this.init.partials.delete(stepId);
          return stream.response;
        });
      },
      { input: modelInputDigest(spec.messages, model) },
    );
  }

  /**
   * Runs an agent as part of this job: each of its model calls and tool calls is a journaled
   * step (ids `<n>.<callIndex>`), policy and budgets apply, tools that need approval pause the
   * job. Resolves with the agent's result once it completes.
   */
  async runAgent(agent: Agent, input: string | Message[], options: Omit<AgentRunOptions, 'signal' | 'context'> = {}): Promise<AgentResult> {
    const parent = this.allocate();
    this.throwIfStopped();
    const middleware = [...(options.middleware ?? []), journalMiddleware({ ctx: this, parentStepId: parent, gate: this.init.modelGate, partials: this.init.partials, defaultModel: agent.engine.model.modelId })];
    const stream = agent.stream(input, { ...options, middleware, signal: this.signal, context: this.requestContext });
    stream.result.catch(() => undefined);
    for await (const _event of stream) {
      // Deltas and tool events are published by the journal middleware.
    }
    const result = await stream.result;
    if (result.status === 'suspended') throw SUSPEND;
    return result;
  }

  /**
   * Waits for a person. The first run creates the action (its resume token goes to the
   * kernel's `onActionRequired`) and pauses the job; the job is persisted as waiting and holds
   * no memory. Resolving the action resumes the job, and this call returns the outcome.
   */
  async waitForAction(spec: ActionSpec, options: { stepId?: string } = {}): Promise<ActionOutcome> {
    const stepId = options.stepId ?? this.allocate();
    const key = this.stepKey(stepId);
    const name = spec.type ?? 'approval';
    const recorded = this.init.journal.lookup(stepId, 'action', name);
    if (recorded?.status === 'completed') return recorded.output as unknown as ActionOutcome;
    this.throwIfStopped();
    const existing = (await (this.init.jobActions?.() ?? this.init.actions.listByJob({ scopeId: this.scopeId, jobId: this.jobId }))).filter((a) => a.stepKey === key);
    const current = existing.find((a) => a.status === 'pending') ?? existing.find((a) => a.status !== 'escalated') ?? existing[0];
    if (current === undefined) {
      // Stored with the job's pause, by the runner, with its action.required event.
      const { action, resumeToken } = this.init.actions.prepareAction({ ...spec, stepKey: key }, this.executionContext);
      const event = this.init.events.build('action.required', {
        actionId: action.id,
        actionType: action.type,
        principalIds: action.approvers.length ? action.approvers : undefined,
        expiresAt: action.expiresAt,
        stepKey: key,
        details: { title: action.title },
      });
      this.init.pausing.push({ action, resumeToken, stepKey: key, event });
      throw SUSPEND;
    }
    if (current.status === 'pending') throw SUSPEND;
    if (current.status === 'expired') {
      // `onTimeout: 'fail'`: the wait fails (and with it the job, unless its code handles it).
      throw new ActionExpiredError(current.id, current.expiresAt, current.escalatedToActionId);
    }
    const outcome: ActionOutcome = {
      actionId: current.id,
      status: current.status,
      resolution: (current.resolution ?? null) as JsonValue,
      resolvedBy: current.resolvedBy,
    };
    // The answer is durable in the action store (a run that does not find this step reads it
    // there again): its entry rides on the run's next journal write.
    this.init.journal.recordLater({ stepId, kind: 'action', name, startedAt: this.init.now(), durationMs: 0, output: outcome as unknown as JsonObject });
    return outcome;
  }

  /** Merges values into the job's shared data (kept with the journal). */
  async setShared(values: JsonObject): Promise<void> {
    this.throwIfStopped();
    await this.init.journal.settle();
    await this.init.journalStore.setSharedData({ scopeId: this.scopeId, jobId: this.jobId, values, leaseEpoch: this.init.leaseEpoch });
  }

  async getShared(): Promise<Readonly<JsonObject>> {
    return this.init.journalStore.getSharedData({ scopeId: this.scopeId, jobId: this.jobId });
  }

  /** Appends to the job's shared log. */
  async log(...entries: JsonValue[]): Promise<void> {
    this.throwIfStopped();
    await this.init.journal.settle();
    await this.init.journalStore.appendSharedLog({ scopeId: this.scopeId, jobId: this.jobId, entries, leaseEpoch: this.init.leaseEpoch });
  }

  /**
   * Stores an event to publish when the job next resumes (e.g. "approval received"). Once
   * across runs: the call is journaled (step id `onResume.<digest of the event>.<n>`, outside
   * the numbering of the job's steps, the same whichever concurrent branch gets there first),
   * so a resumed run that passes it again does not store it twice.
   */
  async emitOnResume<K extends RuntimeEventType>(type: K, data: RuntimeEventDataMap[K] & JsonObject): Promise<void> {
    const digest = hashInput({ type, data }).slice(0, 16);
    const n = this.resumeEventCalls.get(digest) ?? 0;
    this.resumeEventCalls.set(digest, n + 1);
    const stepId = `onResume.${digest}.${n}`;
    if (this.init.journal.lookup(stepId, 'custom', 'emitOnResume') !== undefined) return;
    this.throwIfStopped();
    const startedAt = this.init.now();
    await this.init.journal.settle();
    await this.init.journalStore.addDeferredEvents({ scopeId: this.scopeId, jobId: this.jobId, events: [{ type, data }], leaseEpoch: this.init.leaseEpoch });
    await this.init.journal.record({ stepId, kind: 'custom', name: 'emitOnResume', startedAt, durationMs: this.init.now() - startedAt, output: { type } });
  }

  /** Publishes an event of this job (in order with the job's other events). */
  emit<K extends RuntimeEventType>(type: K, data: RuntimeEventDataMap[K]): void {
    this.init.events.emit(type, data);
  }

  /** Throws `AbortError` once the job was cancelled, interrupted or timed out. */
  throwIfStopped(): void {
    if (this.signal.aborted) {
      const reason = this.signal.reason;
      throw reason instanceof Error ? reason : new AbortError(reason);
    }
  }

  private requireEngine(): ModelExecutor {
    if (!this.init.engine) throw new InvalidArgumentError('engine', 'this kernel was created without an engine, so jobs cannot call a model');
    return this.init.engine;
  }
}

function serialize(error: unknown): { code: string; message: string; retryable: boolean } {
  const e = error as { code?: unknown; message?: unknown; retryable?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : 'error',
    message: typeof e?.message === 'string' ? e.message : String(error),
    retryable: e?.retryable === true,
  };
}

/**
 * What identifies a model call for divergence checks without hashing a whole (growing)
 * conversation at every step: the model, the number of messages and the last one.
 */
export function modelInputDigest(messages: readonly Message[], model: string): string {
  const last = messages[messages.length - 1];
  return `${model}\u0000${messages.length}\u0000${last?.role ?? ''}\u0000${last?.content ?? ''}`;
}
