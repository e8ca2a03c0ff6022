import type { ActionRecord } from '../ports/action-store.js';
import type { ActionEventType } from './action-events.js';
import type { NormalizedActionSpec } from './action-spec.js';
import type { ActionTypeRegistry } from './action-type-registry.js';
import { decisionOf } from './action-type.js';

export type ExpiryOutcomeKind = 'expired' | 'defaulted' | 'escalated';

export interface ExpiryOutcome {
  outcome: ExpiryOutcomeKind;
  /** The expired action as stored after the sweep. */
  action: ActionRecord;
  /** For `escalated`: the new action and its token (deliver it to the new approvers). */
  escalation?: { action: ActionRecord; resumeToken: string };
}

export interface ExpirySweepResult {
  outcomes: ExpiryOutcome[];
}

export interface TimeoutPlan {
  outcome: ExpiryOutcomeKind;
  event: ActionEventType;
  /** The expired record's next state (before the escalation link is added). */
  next: ActionRecord;
  /** For `escalated`: the spec of the action to create. */
  escalateTo?: NormalizedActionSpec;
}

/**
 * What `onTimeout` does to an expired pending action. `default` resolves with the default
 * resolution (or rejects, when the type reads it as a rejection); `escalate` inherits every field
 * that `escalateTo` leaves out except `onTimeout`, which falls back to `fail`.
 */
export function timeoutOutcome(record: ActionRecord, now: number, types: ActionTypeRegistry): TimeoutPlan {
  const closed = { ...record, resolvedAt: now, resolvedBy: 'system:timeout' };
  if (record.onTimeout === 'default' && record.defaultResolution !== undefined) {
    const decision = decisionOf(types.get(record.type), record.defaultResolution);
    const status = decision === 'reject' ? 'rejected' : 'resolved';
    return { outcome: 'defaulted', event: status === 'resolved' ? 'action.resolved' : 'action.rejected', next: { ...closed, status, resolution: record.defaultResolution } };
  }
  if (record.onTimeout === 'escalate' && record.escalateTo) {
    const e = record.escalateTo;
    const description = e.description ?? record.description;
    const defaultResolution = e.defaultResolution ?? record.defaultResolution;
    const escalateTo: NormalizedActionSpec = {
      type: record.type,
      title: e.title ?? record.title,
      ...(description !== undefined ? { description } : {}),
      ...(record.payload !== undefined ? { payload: record.payload } : {}),
      timeoutSeconds: e.timeoutSeconds ?? record.timeoutSeconds,
      onTimeout: e.onTimeout ?? 'fail',
      ...(defaultResolution !== undefined ? { defaultResolution } : {}),
      approvers: e.approvers,
      requiredApprovals: e.requiredApprovals ?? 1,
      ...(e.escalateTo !== undefined ? { escalateTo: e.escalateTo } : {}),
      stepKey: record.stepKey,
    };
    return { outcome: 'escalated', event: 'action.escalated', next: { ...closed, status: 'escalated' }, escalateTo };
  }
  return { outcome: 'expired', event: 'action.expired', next: { ...closed, status: 'expired' } };
}
