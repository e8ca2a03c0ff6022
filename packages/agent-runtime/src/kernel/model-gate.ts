import type { ModelRequest, ModelResponse } from '@baton/llm-client';
import type { ExecutionContext } from '../context/execution-context.js';
import { PolicyDeniedError } from '../errors/policy-errors.js';
import { ScopeBudgetExceededError } from '../errors/ledger-errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { serializeError } from '../jobs/serialized-error.js';
import type { JobContext } from './job-context.js';

/** A policy decision as the kernel consumes it. */
export type GateDecision =
  | { decision: 'allow' }
  | { decision: 'deny'; reason: string; rule?: string | undefined }
  | { decision: 'require_approval'; reason: string; rule?: string | undefined; approvers?: string[] | undefined };

/** What the kernel needs from a policy engine (`PolicyEngine` implements it). */
export interface KernelPolicy {
  checkTool(name: string, args: unknown, ctx: ExecutionContext): GateDecision | Promise<GateDecision>;
  checkModel(model: string, request: ModelRequest | undefined, ctx: ExecutionContext): GateDecision | Promise<GateDecision>;
}

export interface ModelCall {
  ctx: JobContext;
  stepId: string;
  stepKey: string;
  model: string;
  request: ModelRequest;
}

/** Tokens reserved for a call whose `maxTokens` is not set, on top of the input estimate. */
const DEFAULT_OUTPUT_RESERVATION = 1024;

/**
 * Checks and accounts every model call of a job: the policy first (deny → `PolicyDeniedError`,
 * approval → the job waits for a person), then an atomic reservation against the scope's
 * budget (deny → `BudgetExceededError`), then the call, then settlement with the real usage
 * (or release on failure). Publishes `model.*`, `policy.decision` and `budget.*` events.
 */
export class ModelGate {
  constructor(private readonly options: { policy?: KernelPolicy | undefined; ledger?: Ledger | undefined }) {}

  async checkTool(ctx: JobContext, name: string, args: unknown): Promise<GateDecision> {
    const policy = this.options.policy;
    if (!policy) return { decision: 'allow' };
    const decision = await policy.checkTool(name, args, ctx.executionContext);
    if (decision.decision !== 'allow') ctx.emit('policy.decision', { subject: 'tool', name, decision: decision.decision, reason: decision.reason, rule: decision.rule });
    return decision;
  }

  async run(call: ModelCall, fn: () => Promise<ModelResponse>): Promise<ModelResponse> {
    const { ctx, model, stepKey } = call;
    const { policy, ledger } = this.options;
    if (policy) {
      const decision = await policy.checkModel(model, call.request, ctx.executionContext);
      if (decision.decision !== 'allow') ctx.emit('policy.decision', { subject: 'model', name: model, decision: decision.decision, reason: decision.reason, rule: decision.rule });
      if (decision.decision === 'deny') throw new PolicyDeniedError('model', model, decision.rule ?? 'policy', decision.reason);
      if (decision.decision === 'require_approval') {
        const outcome = await ctx.waitForAction(
          { type: 'approval', title: `Approve a call to model '${model}'`, description: decision.reason, ...(decision.approvers?.length ? { approvers: decision.approvers } : {}) },
          { stepId: `${call.stepId}.approval` },
        );
        const r = (outcome.resolution ?? {}) as { approved?: unknown };
        if (outcome.status !== 'resolved' || r.approved !== true) throw new PolicyDeniedError('model', model, decision.rule ?? 'policy', `approval ${outcome.status === 'resolved' ? 'rejected' : outcome.status}`);
      }
    }

    let reservation: { scopeId: string; reservationId: string } | undefined;
    if (ledger) {
      const pending = estimateTokens(call.request);
      const decision = await ledger.checkBudget(ctx.executionContext, pending);
      if (decision.decision === 'deny') {
        const dimension = decision.budget === 'daily_cost' ? 'cost' : 'tokens';
        ctx.emit('budget.exceeded', { dimension, used: pending, limit: decision.remaining.tokens ?? 0, level: 'scope', details: { reason: decision.reason } });
        throw new ScopeBudgetExceededError(decision.scopeId, decision.budget, decision.reason);
      }
      if (decision.decision === 'warn') ctx.emit('budget.warning', { dimension: 'tokens', used: pending, limit: decision.remaining.tokens ?? 0, level: 'scope', details: { reason: decision.reason } });
      reservation = { scopeId: decision.scopeId, reservationId: decision.reservationId };
    }

    ctx.emit('model.started', { model, stepKey });
    const started = performance.now();
    let response: ModelResponse;
    try {
      response = await fn();
    } catch (error) {
      ctx.emit('model.failed', { model, stepKey, error: serializeError(error) });
      if (ledger && reservation) await ledger.release(reservation).catch(() => undefined);
      throw error;
    }
    if (ledger && reservation) await ledger.recordModelUsage(reservation, response.usage, response.cost, { provider: response.provider, model: response.model });
    ctx.emit('model.completed', {
      model: response.model,
      provider: response.provider,
      stepKey,
      usage: { inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens, totalTokens: response.usage.totalTokens },
      finishReason: response.finishReason,
      durationMs: performance.now() - started,
    });
    return response;
  }
}

/** A cheap upper estimate of a call's tokens: ~4 characters a token for the input, plus the output cap. */
export function estimateTokens(request: ModelRequest): number {
  let chars = 0;
  for (const m of request.messages) chars += m.content.length + ('toolCalls' in m && m.toolCalls ? JSON.stringify(m.toolCalls).length : 0);
  return Math.ceil(chars / 4) + (request.maxTokens ?? DEFAULT_OUTPUT_RESERVATION);
}
