import type { AgentMiddleware, ModelResponse, ModelStreamEvent, ToolResult } from '@baton/llm-client';
import { serializeError } from '../jobs/serialized-error.js';
import type { JsonValue } from '../jobs/json-value.js';
import type { JobContext } from './job-context.js';
import { modelInputDigest } from './job-context.js';
import type { ModelGate } from './model-gate.js';
import { SUSPEND } from './run-control.js';

export interface JournalMiddlewareOptions {
  ctx: JobContext;
  /** The step id of the agent run; its calls get `<parent>.<callIndex>`. */
  parentStepId: string;
  gate: ModelGate;
  /** Partial text of model calls in flight, by step id. */
  partials: Map<string, string>;
  /** The model a request that names none goes to (the agent engine's default). */
  defaultModel: string;
}

/**
 * Makes an agent run durable: each model call and each tool call is a journaled step of the
 * job, keyed by the agent's deterministic call index, so a resumed run answers finished calls
 * from the journal (the provider is not called, a tool's side effect does not happen twice)
 * and continues with the first unfinished one. Applies the kernel's policy (tool denials go
 * back to the model as tool errors; approvals pause the job) and the scope's budget, publishes
 * model, tool and delta events, and keeps the partial text of a streaming call for interruption.
 */
export function journalMiddleware({ ctx, parentStepId, gate, partials, defaultModel }: JournalMiddlewareOptions): AgentMiddleware {
  return {
    name: 'baton.journal',

    async model(call, next): Promise<ModelResponse> {
      const stepId = `${parentStepId}.${call.callIndex}`;
      const model = call.request.model ?? defaultModel;
      return ctx.runStep(
        stepId,
        'model',
        model,
        async ({ key }) =>
          gate.run({ ctx, stepId, stepKey: key, model, request: call.request }, async () => {
            const emit = call.emit;
            let partial = '';
            const forward =
              emit === undefined
                ? undefined
                : (event: ModelStreamEvent) => {
                    if (event.type === 'text-delta') {
                      partial += event.delta;
                      partials.set(stepId, partial);
                      ctx.emit('model.delta', { model, stepKey: key, textDelta: event.delta });
                    }
                    emit(event);
                  };
            // The journal makes the call once per step; an engine-level idempotency key would only cache
            // responses in memory (and `jobId:callIndex` repeats across agent runs of one job).
            const response = await next({ ...call, emit: forward, idempotencyKey: undefined } as typeof call);
            partials.delete(stepId);
            return response;
          }),
        { input: modelInputDigest(call.request.messages, model) },
      );
    },

    async tool(call, next): Promise<ToolResult> {
      const stepId = `${parentStepId}.${call.callIndex}`;
      const toolName = call.tool.name;
      const base = { toolName, toolCallId: call.toolCall.id, stepKey: ctx.stepKey(stepId) };

      const decision = await gate.checkTool(ctx, toolName, call.args);
      if (decision.decision === 'deny') {
        return ctx.runStep(stepId, 'tool', toolName, () => deniedResult(decision.reason), { input: call.args });
      }
      if (decision.decision === 'require_approval') {
        let approved: { ok: boolean; detail: string };
        try {
          const outcome = await ctx.waitForAction(
            {
              type: 'approval',
              title: `Approve tool call '${toolName}'`,
              description: decision.reason,
              payload: { tool: toolName, arguments: (call.args ?? null) as JsonValue },
              ...(decision.approvers?.length ? { approvers: decision.approvers } : {}),
            },
            { stepId: `${stepId}.approval` },
          );
          approved = approvalOf(outcome.status, outcome.resolution, outcome.resolvedBy);
        } catch (error) {
          if (error === SUSPEND) return { type: 'suspend', reason: `approval required for tool '${toolName}'`, data: { stepKey: ctx.stepKey(stepId) } };
          throw error;
        }
        if (!approved.ok) {
          return ctx.runStep(stepId, 'tool', toolName, () => deniedResult(approved.detail), { input: call.args });
        }
      }

      return ctx.runStep(
        stepId,
        'tool',
        toolName,
        async ({ key }) => {
          call.idempotencyKey = key;
          ctx.emit('tool.started', base);
          const started = Date.now();
          const result = await next(call);
          if (result.type === 'suspend') throw new SuspendFromTool(result);
          if (result.type === 'error') ctx.emit('tool.failed', { ...base, error: serializeError(result.error) });
          else ctx.emit('tool.completed', { ...base, durationMs: Date.now() - started });
          return toJournaledResult(result);
        },
        { input: call.args },
      ).catch((error: unknown) => {
        if (error instanceof SuspendFromTool) return error.result;
        throw error;
      }) as Promise<ToolResult>;
    },
  };
}

/** A tool (or an inner middleware) asked to pause: not journaled, passed up as it is. */
class SuspendFromTool extends Error {
  constructor(readonly result: ToolResult) {
    super('suspend');
  }
}

function deniedResult(reason: string): ToolResult & JsonValue {
  return { type: 'error', error: { code: 'policy_denied', message: reason, retryable: false }, content: `Error: this tool call was not allowed: ${reason}` };
}

function approvalOf(status: string, resolution: JsonValue | undefined, by: string | undefined): { ok: boolean; detail: string } {
  const r = (resolution ?? {}) as { approved?: unknown; comment?: unknown };
  if (status === 'resolved' && r.approved === true) return { ok: true, detail: 'approved' };
  const who = by ? ` by ${by}` : '';
  const comment = typeof r.comment === 'string' && r.comment ? `: ${r.comment}` : '';
  if (status === 'resolved' || status === 'rejected') return { ok: false, detail: `rejected${who}${comment}` };
  return { ok: false, detail: `approval ${status}${comment}` };
}

/** A tool result as the journal keeps it: JSON only (a non-JSON output keeps its text form). */
function toJournaledResult(result: ToolResult): JsonValue {
  switch (result.type) {
    case 'output':
      return { type: 'output', output: jsonOrText(result.output, result.content), content: result.content };
    case 'error':
      return { type: 'error', error: serializeError(result.error) as unknown as JsonValue, content: result.content };
    case 'suspend':
      return { type: 'error', error: { code: 'suspend_not_journaled', message: result.reason, retryable: false }, content: result.reason };
  }
}

function jsonOrText(value: unknown, text: string): JsonValue {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as JsonValue;
  } catch {
    return text;
  }
}
