import type { RuntimeEvent } from '@baton/agent-runtime';
import type { PriceTable } from '@baton/llm-client';
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import { ATTR, OPERATION } from './gen-ai-attributes.js';
import type { OpenCall } from './job-trace.js';
import { modelCost } from './model-cost.js';

/** Bucket boundaries of the GenAI conventions for durations in seconds and for token counts. */
const DURATION_BUCKETS_S = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/**
 * The metrics the adapter records from events (every job, sampled or not):
 *
 * | name | kind | unit | attributes |
 * | --- | --- | --- | --- |
 * | `baton.job.started` | counter | `{job}` | |
 * | `baton.job.completed` | counter | `{job}` | |
 * | `baton.job.failed` | counter | `{job}` | `error.type`, `baton.job.status` (failed, dead_lettered) |
 * | `baton.job.cancelled` | counter | `{job}` | `baton.job.status` (cancelled, interrupted) |
 * | `baton.job.retries` | counter | `{attempt}` | job starts after the first attempt |
 * | `gen_ai.client.operation.duration` | histogram | `s` | operation, provider, request/response model, `error.type` |
 * | `gen_ai.client.token.usage` | histogram | `{token}` | operation, provider, models, `gen_ai.token.type` |
 * | `baton.model.tokens` | counter | `{token}` | provider, response model, `gen_ai.token.type` (input, output) |
 * | `baton.model.cost` | counter | `USD` | provider, response model (models in the price table only) |
 * | `baton.model.breaker_open` | counter | `{call}` | provider, model: calls refused by an open circuit breaker |
 * | `gen_ai.execute_tool.duration` | histogram | `s` | `gen_ai.tool.name`, `error.type` |
 * | `baton.action.duration` | histogram | `s` | `baton.action.type`… outcome: wait for a person |
 * | `baton.policy.decisions` | counter | `{decision}` | subject, decision (deny, require_approval) |
 * | `baton.budget.events` | counter | `{event}` | dimension, level, `baton.budget.outcome` (warning, exceeded) |
 */
export class RuntimeMetrics {
  readonly #prices: PriceTable;
  readonly #jobStarted: Counter;
  readonly #jobCompleted: Counter;
  readonly #jobFailed: Counter;
  readonly #jobCancelled: Counter;
  readonly #jobRetries: Counter;
  readonly #modelDuration: Histogram;
  readonly #tokenUsage: Histogram;
  readonly #tokens: Counter;
  readonly #cost: Counter;
  readonly #breakerOpen: Counter;
  readonly #toolDuration: Histogram;
  readonly #actionDuration: Histogram;
  readonly #policy: Counter;
  readonly #budget: Counter;

  constructor(meter: Meter, prices: PriceTable) {
    this.#prices = prices;
    const duration = { unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS_S } };
    this.#jobStarted = meter.createCounter('baton.job.started', { unit: '{job}', description: 'Jobs started (first attempts and retries).' });
    this.#jobCompleted = meter.createCounter('baton.job.completed', { unit: '{job}', description: 'Jobs completed.' });
    this.#jobFailed = meter.createCounter('baton.job.failed', { unit: '{job}', description: 'Jobs failed or dead-lettered.' });
    this.#jobCancelled = meter.createCounter('baton.job.cancelled', { unit: '{job}', description: 'Jobs cancelled or interrupted.' });
    this.#jobRetries = meter.createCounter('baton.job.retries', { unit: '{attempt}', description: 'Job attempts after the first.' });
    this.#modelDuration = meter.createHistogram('gen_ai.client.operation.duration', { ...duration, description: 'Duration of model calls.' });
    this.#tokenUsage = meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', description: 'Tokens per model call, by type.', advice: { explicitBucketBoundaries: TOKEN_BUCKETS } });
    this.#tokens = meter.createCounter('baton.model.tokens', { unit: '{token}', description: 'Tokens used, by model and type.' });
    this.#cost = meter.createCounter('baton.model.cost', { unit: 'USD', description: 'Cost of model calls, from the price table.' });
    this.#breakerOpen = meter.createCounter('baton.model.breaker_open', { unit: '{call}', description: 'Model calls refused by an open circuit breaker.' });
    this.#toolDuration = meter.createHistogram('gen_ai.execute_tool.duration', { ...duration, description: 'Duration of tool calls.' });
    this.#actionDuration = meter.createHistogram('baton.action.duration', { ...duration, description: 'Time from an action being required to its resolution, expiry or escalation.' });
    this.#policy = meter.createCounter('baton.policy.decisions', { unit: '{decision}', description: 'Policy decisions other than allow.' });
    this.#budget = meter.createCounter('baton.budget.events', { unit: '{event}', description: 'Budget warnings and refusals.' });
  }

  /** Records one event; `opened` is what it closes (from the span tracker), when known. */
  record(event: RuntimeEvent, opened: OpenCall | undefined): void {
    const openedAt = opened?.startedAt;
    switch (event.type) {
      case 'job.started':
        this.#jobStarted.add(1);
        if (event.data.attempt > 1) this.#jobRetries.add(1);
        return;
      case 'job.completed':
        this.#jobCompleted.add(1);
        return;
      case 'job.failed':
        this.#jobFailed.add(1, { [ATTR.errorType]: event.data.error.code, [ATTR.jobStatus]: 'failed' });
        return;
      case 'job.dead_lettered':
        this.#jobFailed.add(1, { [ATTR.errorType]: 'dead_lettered', [ATTR.jobStatus]: 'dead_lettered' });
        return;
      case 'job.cancelled':
      case 'job.interrupted':
        this.#jobCancelled.add(1, { [ATTR.jobStatus]: event.type.slice('job.'.length) });
        return;
      case 'model.completed':
      case 'model.failed':
        this.#modelEnded(event, opened);
        return;
      case 'tool.completed':
      case 'tool.failed': {
        const seconds = event.type === 'tool.completed' && event.data.durationMs !== undefined ? event.data.durationMs / 1000 : openedAt !== undefined ? (event.at - openedAt) / 1000 : undefined;
        const attributes: Attributes = { [ATTR.operationName]: OPERATION.executeTool, [ATTR.toolName]: event.data.toolName };
        if (event.type === 'tool.failed') attributes[ATTR.errorType] = event.data.error.code;
        if (seconds !== undefined) this.#toolDuration.record(Math.max(0, seconds), attributes);
        return;
      }
      case 'action.resolved':
      case 'action.expired':
      case 'action.escalated':
        if (openedAt !== undefined) {
          const outcome = event.type === 'action.escalated' ? 'escalated' : (event.data.outcome ?? event.type.slice('action.'.length));
          this.#actionDuration.record(Math.max(0, (event.at - openedAt) / 1000), { [ATTR.actionType]: opened?.actionType ?? 'unknown', [ATTR.actionOutcome]: outcome });
        }
        return;
      case 'policy.decision':
        this.#policy.add(1, { [ATTR.policySubject]: event.data.subject, [ATTR.policyDecision]: event.data.decision });
        return;
      case 'budget.warning':
      case 'budget.exceeded':
        this.#budget.add(1, {
          [ATTR.budgetDimension]: event.data.dimension,
          [ATTR.budgetLevel]: event.data.level ?? 'job',
          'baton.budget.outcome': event.type === 'budget.warning' ? 'warning' : 'exceeded',
        });
        return;
      default:
        return;
    }
  }

  #modelEnded(event: RuntimeEvent<'model.completed'> | RuntimeEvent<'model.failed'>, opened: OpenCall | undefined): void {
    const openedAt = opened?.startedAt;
    const requested = opened?.requestModel ?? event.data.model;
    const provider = event.data.provider ?? 'unknown';
    const attributes: Attributes = { [ATTR.operationName]: OPERATION.chat, [ATTR.providerName]: provider, [ATTR.requestModel]: requested };
    if (event.type === 'model.failed') {
      attributes[ATTR.errorType] = event.data.error.code;
      if (event.data.error.code === 'circuit_open') this.#breakerOpen.add(1, { [ATTR.providerName]: provider, [ATTR.requestModel]: requested });
      if (openedAt !== undefined) this.#modelDuration.record(Math.max(0, (event.at - openedAt) / 1000), attributes);
      return;
    }
    attributes[ATTR.responseModel] = event.data.model;
    const { usage, durationMs } = event.data;
    const seconds = durationMs !== undefined ? durationMs / 1000 : openedAt !== undefined ? (event.at - openedAt) / 1000 : undefined;
    if (seconds !== undefined) this.#modelDuration.record(Math.max(0, seconds), attributes);
    const byModel = { [ATTR.providerName]: provider, [ATTR.responseModel]: event.data.model };
    for (const [type, count] of [['input', usage?.inputTokens], ['output', usage?.outputTokens]] as const) {
      if (count === undefined) continue;
      this.#tokenUsage.record(count, { ...attributes, [ATTR.tokenType]: type });
      if (count > 0) this.#tokens.add(count, { ...byModel, [ATTR.tokenType]: type });
    }
    const cost = modelCost(this.#prices, event);
    if (cost && cost.nanoUsd > 0) this.#cost.add(cost.nanoUsd / 1e9, byModel);
  }
}
