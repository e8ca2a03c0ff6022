import { z } from 'zod';
import { JsonValueSchema } from '../jobs/json-value.js';
import { InvalidArgumentError } from '@baton/llm-client';
import { EscalationSpecSchema, type ActionTimeoutBehavior, type EscalationSpec } from '../ports/action-store.js';
import type { ActionTypeRegistry } from './action-type-registry.js';
import { parseResolution } from './action-type.js';

const principalId = z.string().min(1).max(256);

/**
 * What a job asks a person for. `type` names a registered action type (default `approval`)
 * whose schema every resolution must parse against.
 *
 * Approvals: with `approvers` set, only they may answer, each once; the action resolves when
 * `requiredApprovals` of them (default 1) have approved, and any one of them rejecting rejects
 * it at once (veto). Without `approvers`, any principal of the scope holding the token may
 * answer, with the same counting.
 *
 * Timeout (every action expires; default 24 h): `onTimeout` `fail` → status `expired`;
 * `default` → resolved with `defaultResolution`; `escalate` → a new action to `escalateTo`
 * (fields it leaves out are inherited), this one `escalated` and linked to it.
 */
export const ActionSpecSchema = z.strictObject({
  type: z.string().min(1).default('approval'),
  title: z.string().min(1).max(500),
  description: z.string().max(20_000).optional(),
  payload: JsonValueSchema.optional(),
  timeoutSeconds: z.number().positive().optional(),
  onTimeout: z.enum(['fail', 'default', 'escalate']).default('fail'),
  defaultResolution: JsonValueSchema.optional(),
  approvers: z.array(principalId).optional(),
  requiredApprovals: z.number().int().positive().optional(),
  escalateTo: EscalationSpecSchema.optional(),
  /** The job step waiting on the action (set by the kernel; defaults to `action:<id>`). */
  stepKey: z.string().min(1).optional(),
});
export type ActionSpec = z.input<typeof ActionSpecSchema>;

/** A spec after defaults and cross-field checks. */
export interface NormalizedActionSpec {
  type: string;
  title: string;
  description?: string | undefined;
  payload?: z.core.util.JSONType | undefined;
  timeoutSeconds: number;
  onTimeout: ActionTimeoutBehavior;
  defaultResolution?: z.core.util.JSONType | undefined;
  approvers: string[];
  requiredApprovals: number;
  escalateTo?: EscalationSpec | undefined;
  stepKey?: string | undefined;
}

/**
 * Parses and checks a spec: the type exists, approvers are distinct and can reach the required
 * count, `default` has a valid `defaultResolution`, `escalate` has an `escalateTo` (checked the
 * same way, down the chain), timeouts stay under `maxTimeoutSeconds`. Fails with
 * `InvalidArgumentError` naming the field.
 */
export function normalizeActionSpec(
  spec: ActionSpec,
  options: { types: ActionTypeRegistry; defaultTimeoutSeconds: number; maxTimeoutSeconds: number },
): NormalizedActionSpec {
  const parsed = ActionSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`spec.${issue?.path.join('.') ?? ''}`, issue?.message ?? 'invalid action spec');
  }
  const s = parsed.data;
  const type = options.types.require(s.type);
  const normalized: NormalizedActionSpec = {
    ...s,
    timeoutSeconds: s.timeoutSeconds ?? options.defaultTimeoutSeconds,
    approvers: s.approvers ?? [],
    requiredApprovals: s.requiredApprovals ?? 1,
  };
  checkLevel('spec', normalized, options.maxTimeoutSeconds, (value, field) => {
    try {
      parseResolution(type, '(new action)', value);
    } catch (error) {
      throw new InvalidArgumentError(field, error instanceof Error ? error.message : String(error), error);
    }
  });
  return normalized;
}

interface Level {
  timeoutSeconds?: number | undefined;
  onTimeout?: ActionTimeoutBehavior | undefined;
  defaultResolution?: unknown;
  approvers: string[];
  requiredApprovals?: number | undefined;
  escalateTo?: EscalationSpec | undefined;
}

function checkLevel(at: string, level: Level, maxTimeoutSeconds: number, checkResolution: (value: unknown, field: string) => void, inheritedDefault?: unknown): void {
  if (new Set(level.approvers).size !== level.approvers.length) throw new InvalidArgumentError(`${at}.approvers`, 'each approver may be listed once');
  const required = level.requiredApprovals ?? 1;
  if (level.approvers.length > 0 && required > level.approvers.length) {
    throw new InvalidArgumentError(`${at}.requiredApprovals`, `${required} approvals required but only ${level.approvers.length} approver(s) listed`);
  }
  if (level.timeoutSeconds !== undefined && level.timeoutSeconds > maxTimeoutSeconds) {
    throw new InvalidArgumentError(`${at}.timeoutSeconds`, `must be at most ${maxTimeoutSeconds}`);
  }
  const defaultResolution = level.defaultResolution ?? inheritedDefault;
  if (level.defaultResolution !== undefined) checkResolution(level.defaultResolution, `${at}.defaultResolution`);
  const onTimeout = level.onTimeout ?? 'fail';
  if (onTimeout === 'default' && defaultResolution === undefined) throw new InvalidArgumentError(`${at}.defaultResolution`, "required when onTimeout is 'default'");
  if (onTimeout === 'escalate' && !level.escalateTo) throw new InvalidArgumentError(`${at}.escalateTo`, "required when onTimeout is 'escalate'");
  if (level.escalateTo) checkLevel(`${at}.escalateTo`, level.escalateTo, maxTimeoutSeconds, checkResolution, defaultResolution);
}
