import { AbortError, BatonError, InvalidArgumentError, type Agent, type AgentResult, type AgentRunOptions, type CompletionSpec, type EngineCallOptions, type Message, type ModelResponse } from '@baton/llm-client';
import type { ActionSpec } from '../actions/action-spec.js';
import { OperatorFailedError } from '../errors/orchestration-errors.js';
import type { RuntimeEventDataMap } from '../events/runtime-event-data.js';
import type { RuntimeEventType } from '../events/runtime-event-type.js';
import type { JsonObject, JsonValue } from '../jobs/json-value.js';
import { JobContext, type ActionOutcome, type StepHandle, type StepOptions } from '../kernel/job-context.js';
import type { Operator, OperatorResult } from './operator.js';
import { scopedJobContext } from './scoped-job-context.js';

/** Where a nested scope runs: a step id reserved earlier (`reserve()`), and a signal to stop it. */
export interface ScopeOptions extends StepOptions {
  /** A step id from `reserve()`; default: the next one. Reserve ids before starting concurrent work. */
  at?: string | undefined;
  /** Stops this scope's work (a timeout, a failed sibling) without stopping the job. Default: this context's signal. */
  signal?: AbortSignal | undefined;
}

/**
 * What an operator runs with: the job's context, scoped under the operator's step id. Every
 * step it takes — model calls, agent runs, waits for a person, nested operators, plain steps —
 * is journaled under that id (`<id>.0`, `<id>.1`, …), so a resumed or recovered job answers
 * finished ones from the journal and continues with the first unfinished one.
 *
 * Ids are given in call order. Work that runs concurrently must get its ids before it starts:
 * `reserve()` them in a fixed order (or call `run`/`scope` for every branch before awaiting),
 * never as branches finish.
 */
export class OperatorContext {
  /** The job's own context. */
  readonly job: JobContext;
  /** This context's step id (its steps are `<path>.<n>`). */
  readonly path: string;
  readonly signal: AbortSignal;
  private counter = 0;
  private scoped: JobContext | undefined;

  constructor(job: JobContext, path: string, signal: AbortSignal = job.signal) {
    if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('path', 'must be a non-empty step id');
    this.job = job;
    this.path = path;
    this.signal = signal;
  }

  /** The job's context scoped under this one (made on first use: most operator contexts of a graph never need it). */
  private get view(): JobContext {
    return (this.scoped ??= scopedJobContext(this.job, () => this.reserve(), this.signal));
  }

  /**
   * Runs `fn` as one journaled step of `ctx` (a job's context or an operator's) and hands it a
   * context scoped under that step. A later run of the job returns the recorded result.
   */
  static async within<T>(ctx: JobContext | OperatorContext, name: string, fn: (octx: OperatorContext) => Promise<T>, options: ScopeOptions = {}): Promise<T> {
    if (ctx instanceof OperatorContext) return ctx.scope(name, fn, options);
    if (options.at !== undefined) throw new InvalidArgumentError('at', 'only an OperatorContext can run at a reserved id');
    const job = ctx;
    return job.step(name, ({ key }) => fn(new OperatorContext(job, key.slice(job.jobId.length + 1), options.signal ?? job.signal)), options);
  }

  get jobId(): string {
    return this.job.jobId;
  }

  get scopeId(): string {
    return this.job.scopeId;
  }

  get principalId(): string {
    return this.job.principalId;
  }

  /** Reserves the next step id of this context (for work started later or concurrently). */
  reserve(): string {
    return `${this.path}.${this.counter++}`;
  }

  /** Reserves `count` ids in order. */
  reserveMany(count: number): string[] {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(this.reserve());
    return ids;
  }

  /** The stable key of one of this job's step ids (use it as an external idempotency key). */
  stepKey(stepId: string): string {
    return this.job.stepKey(stepId);
  }

  /** A journaled step (run once across every run of the job). */
  step<T>(name: string, fn: (step: StepHandle) => Promise<T> | T, options: StepOptions = {}): Promise<T> {
    return this.view.step(name, fn, options);
  }

  /** A journaled model call through the kernel's engine (policy and budgets apply). */
  callModel<O = unknown>(spec: CompletionSpec<O>, options: { name?: string; stream?: boolean; engineOptions?: EngineCallOptions } = {}): Promise<ModelResponse & { object?: O }> {
    return this.view.callModel(spec, options);
  }

  /** Runs an agent as journaled steps (each model and tool call is one). */
  runAgent(agent: Agent, input: string | Message[], options: Omit<AgentRunOptions, 'signal' | 'context'> = {}): Promise<AgentResult> {
    return this.view.runAgent(agent, input, options);
  }

  /** Waits for a person: the job pauses (persisted as waiting) and resumes from its journal. */
  waitForAction(spec: ActionSpec): Promise<ActionOutcome> {
    return this.view.waitForAction(spec);
  }

  /** A nested scope as one journaled step; `fn` gets a context under it. */
  async scope<T>(name: string, fn: (octx: OperatorContext) => Promise<T>, options: ScopeOptions = {}): Promise<T> {
    const id = options.at ?? this.reserve();
    const signal = options.signal ?? this.signal;
    const { at: _at, signal: _signal, ...stepOptions } = options;
    stopIfAborted(signal);
    return this.job.runStep(id, stepOptions.kind ?? 'custom', name, () => fn(new OperatorContext(this.job, id, signal)), stepOptions);
  }

  /**
   * Runs an operator as one journaled step: its result is recorded, and a later run of the job
   * returns it without running the operator again. Errors that are not Baton errors are wrapped
   * in `OperatorFailedError` naming the operator and its step.
   */
  run<I, O>(operator: Operator<I, O>, input: I, options: Omit<ScopeOptions, 'kind' | 'input'> = {}): Promise<OperatorResult<O>> {
    const id = options.at ?? this.reserve();
    return this.scope(`operator:${operator.name}`, (octx) => executeOperator(operator, input, octx), { ...options, at: id, input: input === undefined ? null : input });
  }

  /** Publishes an event of the job. */
  emit<K extends RuntimeEventType>(type: K, data: RuntimeEventDataMap[K]): void {
    this.job.emit(type, data);
  }

  /** Appends to the job's shared log. */
  log(...entries: JsonValue[]): Promise<void> {
    return this.job.log(...entries);
  }

  setShared(values: JsonObject): Promise<void> {
    return this.job.setShared(values);
  }

  getShared(): Promise<Readonly<JsonObject>> {
    return this.job.getShared();
  }

  /** Throws once this context's signal (or the job's) has fired. */
  throwIfStopped(): void {
    this.job.throwIfStopped();
    stopIfAborted(this.signal);
  }

  /** True for the runtime's pause signal, which operator code must rethrow. */
  static isControlSignal(error: unknown): boolean {
    return JobContext.isControlSignal(error);
  }
}

function stopIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new AbortError(signal.reason);
}

/**
 * Executes an operator in a context already scoped for it (its step id is `octx.path`):
 * errors that are not Baton errors become `OperatorFailedError`, and the result is checked.
 */
export async function executeOperator<I, O>(operator: Operator<I, O>, input: I, octx: OperatorContext): Promise<OperatorResult<O>> {
  let result: OperatorResult<O>;
  try {
    result = await operator.execute(input, octx);
  } catch (error) {
    if (JobContext.isControlSignal(error) || BatonError.isInstance(error)) throw error;
    throw new OperatorFailedError({ operator: operator.name, jobId: octx.jobId, stepId: octx.path, message: error instanceof Error ? error.message : String(error), cause: error });
  }
  if (typeof result !== 'object' || result === null || !('output' in result)) {
    throw new OperatorFailedError({ operator: operator.name, jobId: octx.jobId, stepId: octx.path, message: 'execute() must resolve with { output }' });
  }
  const out: OperatorResult<O> = { output: (result.output === undefined ? null : result.output) as O };
  if (result.usage) out.usage = result.usage;
  if (result.metadata) out.metadata = result.metadata;
  return out;
}
