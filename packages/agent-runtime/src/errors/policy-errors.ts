import { BatonError } from '@baton/llm-client';

/** A policy denied a tool or model call. `rule` names the rule that decided. */
export class PolicyDeniedError extends BatonError {
  override readonly name = 'PolicyDeniedError';
  readonly code = 'policy_denied';
  readonly target: 'tool' | 'model';
  /** The tool name or model id. */
  readonly subject: string;
  readonly rule: string;
  readonly reason: string;
  constructor(target: 'tool' | 'model', subject: string, rule: string, reason: string) {
    super({ message: `Policy denied ${target} '${subject}' (rule '${rule}'): ${reason}` });
    this.target = target;
    this.subject = subject;
    this.rule = rule;
    this.reason = reason;
  }
}

/**
 * A model call needs approval and no approval handler was given to the policy middleware.
 * (Tool calls that need approval go through `onApprovalRequired` and never throw this.)
 */
export class PolicyApprovalRequiredError extends BatonError {
  override readonly name = 'PolicyApprovalRequiredError';
  readonly code = 'policy_approval_required';
  readonly target: 'tool' | 'model';
  readonly subject: string;
  readonly rule: string;
  readonly reason: string;
  constructor(target: 'tool' | 'model', subject: string, rule: string, reason: string) {
    super({ message: `Policy requires approval for ${target} '${subject}' (rule '${rule}'): ${reason}` });
    this.target = target;
    this.subject = subject;
    this.rule = rule;
    this.reason = reason;
  }
}

/** The `PolicyRef` names a policy set (or version) that is not registered. */
export class UnknownPolicySetError extends BatonError {
  override readonly name = 'UnknownPolicySetError';
  readonly code = 'unknown_policy_set';
  readonly policySet: string;
  readonly version: string | undefined;
  constructor(policySet: string, version?: string) {
    super({ message: `Unknown policy set '${policySet}'${version ? ` version '${version}'` : ''}` });
    this.policySet = policySet;
    this.version = version;
  }
}

/** A policy set of this name and version is already registered. */
export class PolicySetConflictError extends BatonError {
  override readonly name = 'PolicySetConflictError';
  readonly code = 'policy_set_conflict';
  readonly policySet: string;
  readonly version: string | undefined;
  constructor(policySet: string, version?: string) {
    super({ message: `Policy set '${policySet}'${version ? ` version '${version}'` : ''} is already registered` });
    this.policySet = policySet;
    this.version = version;
  }
}
