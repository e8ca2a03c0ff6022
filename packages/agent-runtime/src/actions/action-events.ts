import type { ActionRecord } from '../ports/action-store.js';

export type ActionEventType =
  | 'action.required'
  | 'action.approval_recorded'
  | 'action.resolved'
  | 'action.rejected'
  | 'action.expired'
  | 'action.escalated'
  | 'action.cancelled';

/** A lifecycle fact for the event bus; the kernel maps it to a `RuntimeEvent`. Carries no token. */
export interface ActionEvent {
  type: ActionEventType;
  action: Omit<ActionRecord, 'tokenHash'>;
  at: number;
}
