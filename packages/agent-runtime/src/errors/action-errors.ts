import { BatonError } from '@baton/llm-client';

/**
 * The resume token is unknown in the caller's scope: forged, mistyped, belonging to another
 * scope, or replaced by `reissueToken`. The message never says which, so a caller of scope A
 * learns nothing about scope B.
 */
export class InvalidResumeTokenError extends BatonError {
  override readonly name = 'InvalidResumeTokenError';
  readonly code = 'invalid_resume_token';
  readonly scopeId: string;
  constructor(scopeId: string) {
    super({ message: `Resume token is not valid in scope '${scopeId}'` });
    this.scopeId = scopeId;
  }
}

/** No action with this id in the caller's scope (another scope's action is "not found" too). */
export class ActionNotFoundError extends BatonError {
  override readonly name = 'ActionNotFoundError';
  readonly code = 'action_not_found';
  readonly actionId: string;
  readonly scopeId: string;
  constructor(actionId: string, scopeId: string) {
    super({ message: `Action '${actionId}' not found in scope '${scopeId}'` });
    this.actionId = actionId;
    this.scopeId = scopeId;
  }
}

/** The action expired (or was escalated on expiry) before this resolution arrived. */
export class ActionExpiredError extends BatonError {
  override readonly name = 'ActionExpiredError';
  readonly code = 'action_expired';
  readonly actionId: string;
  readonly expiresAt: number;
  /** Set when the action was escalated: the action that now carries the request. */
  readonly escalatedToActionId: string | undefined;
  constructor(actionId: string, expiresAt: number, escalatedToActionId?: string) {
    super({
      message: `Action '${actionId}' expired at ${new Date(expiresAt).toISOString()}${escalatedToActionId ? ` and was escalated to '${escalatedToActionId}'` : ''}`,
    });
    this.actionId = actionId;
    this.expiresAt = expiresAt;
    this.escalatedToActionId = escalatedToActionId;
  }
}

/** The action is already final (resolved or rejected): its token has been used. */
export class ActionAlreadyResolvedError extends BatonError {
  override readonly name = 'ActionAlreadyResolvedError';
  readonly code = 'action_already_resolved';
  readonly actionId: string;
  readonly status: string;
  constructor(actionId: string, status: string) {
    super({ message: `Action '${actionId}' is already ${status}` });
    this.actionId = actionId;
    this.status = status;
  }
}

/** The action was cancelled (usually with its job) and can no longer be resolved. */
export class ActionCancelledError extends BatonError {
  override readonly name = 'ActionCancelledError';
  readonly code = 'action_cancelled';
  readonly actionId: string;
  constructor(actionId: string) {
    super({ message: `Action '${actionId}' was cancelled` });
    this.actionId = actionId;
  }
}

/** One issue of a resolution that does not parse. `path` is dotted (`items.0.name`), '' for the root. */
export interface ResolutionIssue {
  path: string;
  message: string;
}

/** The resolution does not match the action type's schema; the action stays pending. */
export class InvalidResolutionError extends BatonError {
  override readonly name = 'InvalidResolutionError';
  readonly code = 'invalid_resolution';
  readonly actionId: string;
  readonly actionType: string;
  /** The first offending field ('' when the value itself is wrong). */
  readonly field: string;
  readonly issues: readonly ResolutionIssue[];
  constructor(actionId: string, actionType: string, issues: readonly ResolutionIssue[]) {
    const first = issues[0] ?? { path: '', message: 'invalid value' };
    super({
      message: `Invalid resolution for action '${actionId}' (type '${actionType}'): ${first.path ? `field '${first.path}'` : 'value'}: ${first.message}`,
    });
    this.actionId = actionId;
    this.actionType = actionType;
    this.field = first.path;
    this.issues = issues;
  }
}

/** The principal is not among the action's approvers. */
export class ApproverNotAllowedError extends BatonError {
  override readonly name = 'ApproverNotAllowedError';
  readonly code = 'approver_not_allowed';
  readonly actionId: string;
  readonly principalId: string;
  constructor(actionId: string, principalId: string) {
    super({ message: `Principal '${principalId}' is not an approver of action '${actionId}'` });
    this.actionId = actionId;
    this.principalId = principalId;
  }
}

/** The principal already approved this action: each approver counts once. */
export class DuplicateApprovalError extends BatonError {
  override readonly name = 'DuplicateApprovalError';
  readonly code = 'duplicate_approval';
  readonly actionId: string;
  readonly principalId: string;
  constructor(actionId: string, principalId: string) {
    super({ message: `Principal '${principalId}' has already answered action '${actionId}'` });
    this.actionId = actionId;
    this.principalId = principalId;
  }
}

/** No action type of this name is registered. */
export class UnknownActionTypeError extends BatonError {
  override readonly name = 'UnknownActionTypeError';
  readonly code = 'unknown_action_type';
  readonly actionType: string;
  constructor(actionType: string) {
    super({ message: `Unknown action type '${actionType}'` });
    this.actionType = actionType;
  }
}

/** A second, different action type was registered under a name already taken. */
export class ActionTypeConflictError extends BatonError {
  override readonly name = 'ActionTypeConflictError';
  readonly code = 'action_type_conflict';
  readonly actionType: string;
  constructor(actionType: string) {
    super({ message: `Action type '${actionType}' is already registered` });
    this.actionType = actionType;
  }
}

/** `waitForResolution` reached its deadline; the action is still open. Retryable (wait again). */
export class ActionWaitTimeoutError extends BatonError {
  override readonly name = 'ActionWaitTimeoutError';
  readonly code = 'action_wait_timeout';
  readonly actionId: string;
  readonly deadline: number;
  constructor(actionId: string, deadline: number) {
    super({ message: `Still waiting for action '${actionId}' at the deadline ${new Date(deadline).toISOString()}`, retryable: true });
    this.actionId = actionId;
    this.deadline = deadline;
  }
}

/** Another writer changed the action between our read and our write, more times than we retry. */
export class ActionConflictError extends BatonError {
  override readonly name = 'ActionConflictError';
  readonly code = 'action_conflict';
  readonly actionId: string;
  constructor(actionId: string) {
    super({ message: `Action '${actionId}' kept changing under concurrent updates; try again`, retryable: true });
    this.actionId = actionId;
  }
}

/** A stored action row does not parse (corrupt, or written by an unknown schema version). */
export class CorruptActionRecordError extends BatonError {
  override readonly name = 'CorruptActionRecordError';
  readonly code = 'corrupt_action_record';
  readonly actionId: string;
  readonly reason: string;
  constructor(actionId: string, reason: string, cause?: unknown) {
    super({ message: `Stored action '${actionId}' is unreadable: ${reason}`, cause });
    this.actionId = actionId;
    this.reason = reason;
  }
}

/** An action with this id already exists in the store. */
export class DuplicateActionError extends BatonError {
  override readonly name = 'DuplicateActionError';
  readonly code = 'duplicate_action';
  readonly actionId: string;
  constructor(actionId: string) {
    super({ message: `Action '${actionId}' already exists` });
    this.actionId = actionId;
  }
}
