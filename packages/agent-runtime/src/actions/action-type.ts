import { z, type ZodType } from 'zod';
import { isJsonValue } from '../jobs/json-value.js';
import { InvalidArgumentError } from '@baton/llm-client';
import { InvalidResolutionError, type ResolutionIssue } from '../errors/action-errors.js';

/** How one answer counts toward an action's required approvals. */
export type ApprovalDecision = 'approve' | 'reject';

/**
 * A kind of human action: the schema its resolution must parse against, and how an answer
 * counts toward n-of-m approvals (`decide`; without it every valid answer approves).
 */
export interface ActionType<R = unknown> {
  readonly name: string;
  readonly description?: string | undefined;
  readonly resolutionSchema: ZodType<R>;
  readonly decide?: ((resolution: R) => ApprovalDecision) | undefined;
}

/** Checks and returns an action type (a typed identity, so `decide` sees the parsed resolution). */
export function defineActionType<R>(type: ActionType<R>): ActionType<R> {
  if (typeof type.name !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(type.name)) {
    throw new InvalidArgumentError('name', 'an action type name is 1-128 characters of letters, digits, _ . : -');
  }
  if (!type.resolutionSchema || typeof (type.resolutionSchema as { safeParse?: unknown }).safeParse !== 'function') {
    throw new InvalidArgumentError('resolutionSchema', 'must be a zod schema');
  }
  return type;
}

export const ApprovalResolutionSchema = z.strictObject({
  approved: z.boolean(),
  comment: z.string().max(10_000).optional(),
});
export type ApprovalResolution = z.infer<typeof ApprovalResolutionSchema>;

/** The built-in `approval` type: `{ approved: boolean, comment?: string }`; `approved: false` rejects. */
export const approvalActionType: ActionType<ApprovalResolution> = defineActionType({
  name: 'approval',
  description: 'A yes/no approval, with an optional comment.',
  resolutionSchema: ApprovalResolutionSchema,
  decide: (resolution) => (resolution.approved ? 'approve' : 'reject'),
});

/**
 * Parses `value` against the type's schema. Throws `InvalidResolutionError` naming the first
 * offending field; the parsed value must also be plain JSON (it is stored).
 */
export function parseResolution<R>(type: ActionType<R>, actionId: string, value: unknown): R {
  const parsed = type.resolutionSchema.safeParse(value);
  if (!parsed.success) throw new InvalidResolutionError(actionId, type.name, parsed.error.issues.map(toIssue));
  if (!isJsonValue(parsed.data)) {
    throw new InvalidResolutionError(actionId, type.name, [{ path: '', message: 'the parsed resolution is not plain JSON' }]);
  }
  return parsed.data;
}

/** The decision an answer stands for (every answer approves unless the type says otherwise). */
export function decisionOf<R>(type: ActionType<R> | undefined, resolution: R): ApprovalDecision {
  return type?.decide ? type.decide(resolution) : 'approve';
}

function toIssue(issue: z.core.$ZodIssue): ResolutionIssue {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0]!);
  return { path: path.join('.'), message: issue.message };
}
