import { InvalidArgumentError } from '@baton/llm-client';
import type { ActionSpec } from '../actions/action-spec.js';
import type { JsonValue } from '../jobs/json-value.js';
import type { OperatorContext } from '../orchestration/operator-context.js';
import type { NodeInput } from './execution-graph.js';

/** An approval node's output. */
export interface ApprovalNodeOutput {
  [key: string]: JsonValue;
  approved: boolean;
  status: string;
  comment: string | null;
  resolvedBy: string | null;
}

export interface ApprovalNodeOptions {
  title: string | ((input: NodeInput) => string);
  description?: string | ((input: NodeInput) => string);
  /** What the person sees (default: the predecessors' outputs). */
  payload?: (input: NodeInput) => JsonValue;
  approvers?: string[];
  requiredApprovals?: number;
  timeoutSeconds?: number;
  onTimeout?: ActionSpec['onTimeout'];
  defaultResolution?: JsonValue;
}

/**
 * A node that waits for a person's approval: the job pauses (persisted as waiting, holding no
 * worker) and resumes — on any kernel over the same stores — when the action is answered. Its
 * output is `{ approved, status, comment, resolvedBy }`; branch on it with edge conditions.
 */
export function approvalNode(options: ApprovalNodeOptions): (input: NodeInput, ctx: OperatorContext) => Promise<ApprovalNodeOutput> {
  if (typeof options?.title !== 'string' && typeof options?.title !== 'function') throw new InvalidArgumentError('title', 'an approval needs a title');
  return async (input, ctx) => {
    const text = (v: string | ((i: NodeInput) => string) | undefined) => (typeof v === 'function' ? v(input) : v);
    const spec: ActionSpec = {
      type: 'approval',
      title: text(options.title)!,
      payload: options.payload ? options.payload(input) : input.predecessors,
    };
    const description = text(options.description);
    if (description !== undefined) spec.description = description;
    if (options.approvers) spec.approvers = options.approvers;
    if (options.requiredApprovals !== undefined) spec.requiredApprovals = options.requiredApprovals;
    if (options.timeoutSeconds !== undefined) spec.timeoutSeconds = options.timeoutSeconds;
    if (options.onTimeout !== undefined) spec.onTimeout = options.onTimeout;
    if (options.defaultResolution !== undefined) spec.defaultResolution = options.defaultResolution;
    const outcome = await ctx.waitForAction(spec);
    const resolution = (outcome.resolution ?? {}) as { approved?: unknown; comment?: unknown };
    return {
      approved: outcome.status === 'resolved' && resolution.approved === true,
      status: outcome.status,
      comment: typeof resolution.comment === 'string' ? resolution.comment : null,
      resolvedBy: outcome.resolvedBy ?? null,
    };
  };
}
