import { InvalidArgumentError, type AgentMiddleware, type ModelCallContext, type ModelResponse, type ToolCallContext, type ToolResult } from '@baton/llm-client';
import type { ExecutionContext } from '../context/execution-context.js';
import { PolicyApprovalRequiredError, PolicyDeniedError } from '../errors/policy-errors.js';
import type { PolicyEngine } from './policy-engine.js';
import type { PolicyDecision } from './policy-types.js';

export type PolicyApprovalDecision = Extract<PolicyDecision, { decision: 'require_approval' }>;

export interface ToolApprovalRequest {
  decision: PolicyApprovalDecision;
  call: ToolCallContext;
  ctx: ExecutionContext;
}

export interface ModelApprovalRequest {
  decision: PolicyApprovalDecision;
  call: ModelCallContext;
  ctx: ExecutionContext;
}

export interface PolicyMiddlewareOptions {
  /**
   * A tool call needs approval. Return the result the run gets: typically the kernel creates an
   * action and returns `{ type: 'suspend', ... }`; after the approval it re-runs the call.
   */
  onApprovalRequired: (request: ToolApprovalRequest) => ToolResult | Promise<ToolResult>;
  /** A model call needs approval. Without it the call fails with `PolicyApprovalRequiredError`. */
  onModelApprovalRequired?: (request: ModelApprovalRequest) => ModelResponse | Promise<ModelResponse>;
  /** Model id checked when a request names none (the provider's default), default `default`. */
  defaultModel?: string;
}

/**
 * Puts a `PolicyEngine` in front of an agent's tool and model calls for the job in `ctx`.
 * A denied tool call does not run: the model gets a tool error saying why (and may try another
 * way). A denied model call throws `PolicyDeniedError`. Requests that set no `maxTokens` get the
 * applicable `maxTokensPerCall`.
 */
export function policyMiddleware(engine: PolicyEngine, ctx: ExecutionContext, options: PolicyMiddlewareOptions): AgentMiddleware {
  if (!engine || typeof engine.checkTool !== 'function') throw new InvalidArgumentError('engine', 'a PolicyEngine is required');
  if (!ctx?.scopeId) throw new InvalidArgumentError('ctx.scopeId', 'is required');
  if (typeof options?.onApprovalRequired !== 'function') throw new InvalidArgumentError('onApprovalRequired', 'is required: tool calls needing approval must go somewhere');
  const defaultModel = options.defaultModel ?? 'default';
  return {
    name: 'baton.policy',
    async tool(call, next) {
      const name = call.toolCall.name;
      const decision = engine.checkTool(name, call.args, ctx);
      switch (decision.decision) {
        case 'allow':
          return next(call);
        case 'deny':
          return {
            type: 'error',
            error: new PolicyDeniedError('tool', name, decision.rule, decision.reason),
            content: `Tool '${name}' was not called: denied by policy (${decision.reason}).`,
          };
        case 'require_approval':
          return options.onApprovalRequired({ decision, call, ctx });
      }
    },
    async model(call, next) {
      const model = call.request.model ?? defaultModel;
      const decision = engine.checkModel(model, call.request, ctx);
      switch (decision.decision) {
        case 'deny':
          throw new PolicyDeniedError('model', model, decision.rule, decision.reason);
        case 'require_approval':
          if (!options.onModelApprovalRequired) throw new PolicyApprovalRequiredError('model', model, decision.rule, decision.reason);
          return options.onModelApprovalRequired({ decision, call, ctx });
        case 'allow': {
          const max = engine.maxTokensPerCall(model, ctx);
          if (max !== undefined && call.request.maxTokens === undefined) call.request = { ...call.request, maxTokens: max };
          return next(call);
        }
      }
    },
  };
}
