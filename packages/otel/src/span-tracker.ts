import type { RuntimeEvent, SerializedError } from '@baton/agent-runtime';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { contentAttribute, outputMessages } from './captured-content.js';
import { ATTR, OPERATION, SPAN } from './gen-ai-attributes.js';
import { JobTrace, type EndedBy, type OpenCall } from './job-trace.js';
import { JobTraceRegistry } from './job-trace-registry.js';
import { modelCost } from './model-cost.js';
import type { CapturedContent, ResolvedOTelConfig } from './otel-config.js';
import { endSpan, finishReasonOf, modelKey, providerAttributes, reasonOf, spanEventOf, toolKey } from './span-helpers.js';
import { isJobSampled, jobParentContext } from './trace-parent.js';

type Ev<K extends RuntimeEvent['type']> = RuntimeEvent<K>;

/**
 * Turns a job's events into spans: `agent.job` (created → terminal event) ⊃ `agent.run` (each
 * started/resumed → waiting/requeued/terminal) ⊃ `agent.model`, `agent.tool`, `agent.step`
 * and `agent.action` (which may outlive its run: a person answers after the job paused). Span
 * times are the events' `at`, so spans built from events read back from Kafka or Redis have the
 * times of the run, not of the reading.
 */
export class SpanTracker {
  readonly #c: ResolvedOTelConfig;
  readonly #registry: JobTraceRegistry;
  #evicted = 0;

  constructor(config: ResolvedOTelConfig) {
    this.#c = config;
    this.#registry = new JobTraceRegistry(config.maxOpenJobs, config.openSpanTtlMs);
  }

  get stats(): { openJobs: number; openSpans: number; evictedJobs: number } {
    return { openJobs: this.#registry.size, openSpans: this.#registry.openSpans(), evictedJobs: this.#evicted };
  }

  /**
   * Updates the spans for one event. Returns what this event closes (a model or tool call, a
   * step, an action) when the adapter saw it open: the metrics take durations from it.
   */
  handle(event: RuntimeEvent): OpenCall | undefined {
    const now = this.#c.now();
    switch (event.type) {
      case 'job.created':
        this.#job(event, now, true);
        return undefined;
      case 'job.started':
      case 'job.resumed':
        this.#startRun(event, now);
        return undefined;
      case 'job.waiting':
      case 'job.requeued':
        this.#endRun(event, now);
        return undefined;
      case 'job.completed':
      case 'job.failed':
      case 'job.cancelled':
      case 'job.interrupted':
      case 'job.dead_lettered':
        this.#endJob(event, now);
        return undefined;
      case 'step.started':
        this.#stepStarted(event, now);
        return undefined;
      case 'step.completed':
      case 'step.failed':
        return this.#stepEnded(event, now);
      case 'model.started':
        this.#modelStarted(event, now);
        return undefined;
      case 'model.delta':
        this.#modelDelta(event, now);
        return undefined;
      case 'model.completed':
      case 'model.failed':
        return this.#modelEnded(event, now);
      case 'tool.started':
        this.#toolStarted(event, now);
        return undefined;
      case 'tool.completed':
      case 'tool.failed':
        return this.#toolEnded(event, now);
      case 'action.required':
        this.#actionRequired(event, now);
        return undefined;
      case 'action.resolved':
      case 'action.expired':
      case 'action.escalated':
        return this.#actionEnded(event, now);
      case 'policy.decision':
      case 'budget.warning':
      case 'budget.exceeded':
      case 'interruption.requested':
      case 'interruption.completed': {
        const job = this.#job(event, now, false);
        const { name, attributes } = spanEventOf(event);
        if (job) this.#parentOf(job)?.addEvent(name, attributes, new Date(event.at));
        return undefined;
      }
      case 'budget.reserved':
      case 'checkpoint.saved':
        // Too frequent to be worth a span event; the metrics and the journal have them.
        this.#job(event, now, false);
        return undefined;
      default:
        return assertNever(event);
    }
  }

  /** Ends the spans of jobs idle past the TTL. */
  sweep(): void {
    for (const job of this.#registry.takeExpired(this.#c.now())) this.#evict(job, 'ttl');
  }

  /** Ends every open span (`baton.span.ended_by: close`). */
  endAll(): void {
    for (const job of this.#registry.takeAll()) {
      this.#runSpan(job);
      job.endAll('close');
    }
  }

  // ---- jobs and runs ----

  /** The job's trace, created when `create` and absent (its spans start later: see `JobTrace`). */
  #job(event: RuntimeEvent, now: number, create: boolean): JobTrace | undefined {
    const key = `${event.scopeId}\u0000${event.jobId}`;
    let job = this.#registry.get(key);
    if (job) {
      this.#registry.touch(job, now, event.at);
    } else {
      if (!create) return undefined;
      job = new JobTrace(key, event.jobId, now, event.at);
      const attributes: Attributes = { [ATTR.jobId]: event.jobId, [ATTR.scopeId]: event.scopeId };
      if (event.sessionId !== undefined) Object.assign(attributes, { [ATTR.sessionId]: event.sessionId, [ATTR.conversationId]: event.sessionId });
      job.pendingJob = { at: event.at, attributes };
      for (const evicted of this.#registry.add(job)) this.#evict(evicted, 'capacity');
    }
    if (job.traceId === undefined && event.traceId !== undefined) {
      job.traceId = event.traceId;
      // The trace id is known now: the job's spans can start in the right trace.
      this.#runSpan(job);
    }
    return job;
  }

  /** Starts the job span if it is pending; decides whether the job is sampled. */
  #jobSpan(job: JobTrace): Span | undefined {
    const pending = job.pendingJob;
    if (!pending) return job.job;
    job.pendingJob = undefined;
    const ref = { jobId: job.jobId, traceId: job.traceId };
    job.sampled ??= isJobSampled(ref, this.#c.samplingRate);
    if (job.sampled) job.job = this.#c.tracer.startSpan(SPAN.job, { kind: SpanKind.INTERNAL, startTime: new Date(pending.at), attributes: pending.attributes }, jobParentContext(ref));
    return job.job;
  }

  /** Starts the job span and the run span if they are pending. */
  #runSpan(job: JobTrace): Span | undefined {
    const parent = this.#jobSpan(job);
    const pending = job.pendingRun;
    if (!pending) return job.run;
    job.pendingRun = undefined;
    if (parent) job.run = this.#child(parent, SPAN.run, pending.at, pending.attributes);
    return job.run;
  }

  /** Where spans inside the job go: the run, or the job between runs. */
  #parentOf(job: JobTrace): Span | undefined {
    return this.#runSpan(job) ?? job.job;
  }

  #setJobAttribute(job: JobTrace, key: string, value: string | number): void {
    if (job.pendingJob) job.pendingJob = { at: job.pendingJob.at, attributes: { ...job.pendingJob.attributes, [key]: value } };
    else job.job?.setAttribute(key, value);
  }

  #startRun(event: Ev<'job.started'> | Ev<'job.resumed'>, now: number): void {
    const job = this.#job(event, now, true)!;
    if (job.run || job.pendingRun) {
      // A run whose end the adapter never saw (missed event, or another host's run).
      job.endCalls('superseded', event.at, { keepActions: true });
      endSpan(this.#runSpan(job), event.at, { [ATTR.endedBy]: 'superseded' satisfies EndedBy });
      job.run = undefined;
    }
    const attributes: Attributes = { [ATTR.operationName]: OPERATION.invokeAgent, [ATTR.jobId]: event.jobId };
    if (event.type === 'job.started') {
      attributes[ATTR.jobAttempt] = event.data.attempt;
      this.#setJobAttribute(job, ATTR.jobAttempt, event.data.attempt);
      const input = this.#captured(event, 'input');
      if (input !== undefined) this.#setJobAttribute(job, ATTR.jobInput, input);
    } else {
      attributes['baton.run.resumed'] = true;
    }
    job.pendingRun = { at: event.at, attributes };
  }

  #endRun(event: Ev<'job.waiting'> | Ev<'job.requeued'>, now: number): void {
    const job = this.#job(event, now, false);
    if (!job) return;
    job.endCalls('run_ended', event.at, { keepActions: true });
    endSpan(this.#runSpan(job), event.at, { [ATTR.runOutcome]: event.type === 'job.waiting' ? 'waiting' : 'requeued', ...reasonOf(event.data.reason) });
    job.run = undefined;
  }

  #endJob(event: Ev<'job.completed' | 'job.failed' | 'job.cancelled' | 'job.interrupted' | 'job.dead_lettered'>, now: number): void {
    const job = this.#job(event, now, false);
    if (!job) return;
    this.#registry.delete(job);
    const run = this.#runSpan(job);
    const status = event.type.slice('job.'.length);
    const attributes: Attributes = { [ATTR.jobStatus]: status, ...reasonOf(event.data.reason) };
    if (event.type === 'job.failed') {
      attributes[ATTR.errorType] = event.data.error.code;
      this.#fail(run, event.data.error);
      this.#fail(job.job, event.data.error);
    } else if (event.type === 'job.dead_lettered') {
      attributes[ATTR.errorType] = 'dead_lettered';
      for (const span of [run, job.job]) span?.setStatus({ code: SpanStatusCode.ERROR, message: event.data.reason });
    }
    if (event.type === 'job.completed' && this.#c.captureOutput) {
      const result = contentAttribute(event.data.result, this.#c.maxContentLength);
      if (result !== undefined) attributes[ATTR.jobOutput] = result;
    }
    job.endCalls('job_ended', event.at);
    endSpan(run, event.at, { [ATTR.runOutcome]: status });
    job.run = undefined;
    endSpan(job.job, event.at, attributes);
    job.job = undefined;
  }

  #evict(job: JobTrace, endedBy: EndedBy): void {
    this.#evicted++;
    this.#runSpan(job);
    job.endAll(endedBy);
  }

  // ---- steps, model and tool calls, actions ----

  /** Opens a call: a span under the run when the job is sampled, and its start for the metrics. */
  #open(job: JobTrace, key: string, event: RuntimeEvent, span: { name: string; attributes: Attributes; kind?: SpanKind } | undefined, extra: Partial<OpenCall> = {}): Span | undefined {
    const parent = span ? this.#parentOf(job) : undefined;
    const started = parent && span ? this.#child(parent, span.name, event.at, span.attributes, span.kind) : undefined;
    job.open(key, { ...extra, span: started, startedAt: event.at }, this.#c.maxOpenSpansPerJob);
    return started;
  }

  #stepStarted(event: Ev<'step.started'>, now: number): void {
    // Model, tool and action steps have spans of their own.
    if (event.data.kind === 'model' || event.data.kind === 'tool' || event.data.kind === 'action') return;
    const job = this.#job(event, now, true)!;
    this.#open(job, `step:${event.data.key}`, event, { name: SPAN.step, attributes: { [ATTR.stepKey]: event.data.key, [ATTR.stepName]: event.data.name, [ATTR.stepKind]: event.data.kind } });
  }

  #stepEnded(event: Ev<'step.completed'> | Ev<'step.failed'>, now: number): OpenCall | undefined {
    const call = this.#job(event, now, false)?.take(`step:${event.data.key}`);
    if (!call) return undefined;
    if (event.type === 'step.failed') this.#fail(call.span, event.data.error);
    endSpan(call.span, event.at, event.type === 'step.failed' ? { [ATTR.errorType]: event.data.error.code } : {});
    return call;
  }

  #modelStarted(event: Ev<'model.started'>, now: number): void {
    const job = this.#job(event, now, true)!;
    const attributes: Attributes = { [ATTR.operationName]: OPERATION.chat, [ATTR.requestModel]: event.data.model };
    if (event.data.provider !== undefined) Object.assign(attributes, providerAttributes(event.data.provider));
    if (event.data.stepKey !== undefined) attributes[ATTR.stepKey] = event.data.stepKey;
    const span = this.#open(job, modelKey(event), event, { name: SPAN.model, attributes, kind: SpanKind.CLIENT }, { requestModel: event.data.model });
    const input = span ? this.#captured(event, 'input') : undefined;
    if (input !== undefined) span?.setAttribute(ATTR.inputMessages, input);
  }

  #modelDelta(event: Ev<'model.delta'>, now: number): void {
    if (!this.#c.captureOutput) return;
    const call = this.#job(event, now, false)?.calls.get(modelKey(event));
    if (!call?.span) return;
    const text = (call.text ?? '') + event.data.textDelta;
    call.text = text.length > this.#c.maxContentLength ? text.slice(0, this.#c.maxContentLength) : text;
  }

  #modelEnded(event: Ev<'model.completed'> | Ev<'model.failed'>, now: number): OpenCall | undefined {
    const call = this.#job(event, now, false)?.take(modelKey(event));
    if (!call) return undefined;
    const span = call.span;
    if (span) {
      if (event.data.provider !== undefined) span.setAttributes(providerAttributes(event.data.provider));
      if (event.type === 'model.completed') {
        const { usage, finishReason } = event.data;
        span.setAttribute(ATTR.responseModel, event.data.model);
        if (usage?.inputTokens !== undefined) span.setAttribute(ATTR.inputTokens, usage.inputTokens);
        if (usage?.outputTokens !== undefined) span.setAttribute(ATTR.outputTokens, usage.outputTokens);
        if (finishReason !== undefined) span.setAttribute(ATTR.finishReasons, [finishReasonOf(finishReason)]);
        const cost = modelCost(this.#c.prices, event);
        if (cost) span.setAttribute(ATTR.costUsd, cost.usd);
        const output = this.#captured(event, 'output') ?? (this.#c.captureOutput && call.text !== undefined ? outputMessages(call.text, finishReason === undefined ? undefined : finishReasonOf(finishReason), this.#c.maxContentLength) : undefined);
        if (output !== undefined) span.setAttribute(ATTR.outputMessages, output);
      } else {
        span.setAttribute(ATTR.errorType, event.data.error.code);
        this.#fail(span, event.data.error);
      }
    }
    endSpan(span, event.at);
    return call;
  }

  #toolStarted(event: Ev<'tool.started'>, now: number): void {
    const job = this.#job(event, now, true)!;
    const attributes: Attributes = { [ATTR.operationName]: OPERATION.executeTool, [ATTR.toolName]: event.data.toolName };
    if (event.data.toolCallId !== undefined) attributes[ATTR.toolCallId] = event.data.toolCallId;
    if (event.data.stepKey !== undefined) attributes[ATTR.stepKey] = event.data.stepKey;
    const span = this.#open(job, toolKey(event), event, { name: SPAN.tool, attributes });
    const args = span ? this.#captured(event, 'toolArgs') : undefined;
    if (args !== undefined) span?.setAttribute(ATTR.toolCallArguments, args);
  }

  #toolEnded(event: Ev<'tool.completed'> | Ev<'tool.failed'>, now: number): OpenCall | undefined {
    const call = this.#job(event, now, false)?.take(toolKey(event));
    if (!call) return undefined;
    if (event.type === 'tool.failed') {
      call.span?.setAttribute(ATTR.errorType, event.data.error.code);
      this.#fail(call.span, event.data.error);
    } else {
      const result = call.span ? this.#captured(event, 'output') : undefined;
      if (result !== undefined) call.span?.setAttribute(ATTR.toolCallResult, result);
    }
    endSpan(call.span, event.at);
    return call;
  }

  #actionRequired(event: Ev<'action.required'>, now: number): void {
    const job = this.#job(event, now, true)!;
    const key = `action:${event.data.actionId}`;
    if (job.calls.has(key)) return;
    const attributes: Attributes = { [ATTR.actionId]: event.data.actionId, [ATTR.actionType]: event.data.actionType };
    if (event.data.stepKey !== undefined) attributes[ATTR.stepKey] = event.data.stepKey;
    if (this.#c.captureInput && event.data.details !== undefined) attributes[ATTR.actionDetails] = contentAttribute(event.data.details, this.#c.maxContentLength)!;
    this.#open(job, key, event, { name: SPAN.action, attributes }, { actionType: event.data.actionType });
  }

  #actionEnded(event: Ev<'action.resolved'> | Ev<'action.expired'> | Ev<'action.escalated'>, now: number): OpenCall | undefined {
    const call = this.#job(event, now, false)?.take(`action:${event.data.actionId}`);
    if (!call) return undefined;
    const attributes: Attributes = {};
    if (event.type === 'action.escalated') {
      attributes[ATTR.actionOutcome] = 'escalated';
      attributes[ATTR.actionEscalatedTo] = event.data.escalatedToActionId;
    } else {
      attributes[ATTR.actionOutcome] = event.data.outcome ?? (event.type === 'action.expired' ? 'expired' : 'resolved');
    }
    if (this.#c.captureInput && event.data.details !== undefined) attributes[ATTR.actionDetails] = contentAttribute(event.data.details, this.#c.maxContentLength)!;
    endSpan(call.span, event.at, attributes);
    return call;
  }

  // ---- helpers ----

  #child(parent: Span, name: string, at: number, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span {
    return this.#c.tracer.startSpan(name, { kind, startTime: new Date(at), attributes }, trace.setSpan(ROOT_CONTEXT, parent));
  }

  #fail(span: Span | undefined, error: SerializedError): void {
    if (!span) return;
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    if (this.#c.recordExceptions) span.recordException({ name: error.name ?? error.code, message: error.message });
  }

  /** `contentSource`'s `field` for this event, as an attribute value, when its capture flag is on. */
  #captured(event: RuntimeEvent, field: keyof CapturedContent): string | undefined {
    const on = field === 'input' ? this.#c.captureInput : field === 'output' ? this.#c.captureOutput : this.#c.captureToolArgs;
    const source = this.#c.contentSource;
    if (!on || !source) return undefined;
    try {
      return contentAttribute(source(event)?.[field], this.#c.maxContentLength);
    } catch (error) {
      this.#c.onError(error, event);
      return undefined;
    }
  }
}

function assertNever(event: never): undefined {
  void event;
  return undefined;
}
