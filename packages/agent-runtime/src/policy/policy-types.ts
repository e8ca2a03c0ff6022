import type { ModelRequest } from '@baton/llm-client';
import type { ExecutionContext } from '../context/execution-context.js';

/**
 * The outcome of a policy check. `rule` names the rule that decided (`<set>:default` when no rule
 * matched and the set's default applied).
 */
export type PolicyDecision =
  | { decision: 'allow'; rule?: string }
  | { decision: 'deny'; reason: string; rule: string }
  | { decision: 'require_approval'; reason: string; rule: string; approvers?: string[] };

/**
 * A rule over tool calls. It applies to tools whose name matches one of `tools` (globs) and,
 * with `when`, whose arguments satisfy it. An applying rule denies when the scope is outside
 * `allowedScopes` (globs) or `deny` is set, asks for approval when `requireApproval` is set,
 * and allows otherwise.
 */
export interface ToolPolicy {
  name: string;
  tools: string[];
  allowedScopes?: string[];
  deny?: boolean;
  requireApproval?: boolean;
  /** Who may approve (principal ids); passed on in the decision. */
  approvers?: string[];
  /** Argument predicate (the arguments are already validated by the tool's schema). A throw denies. */
  when?: (args: unknown, ctx: ExecutionContext) => boolean;
  reason?: string;
}

/**
 * A rule over model calls, by model id globs. Like `ToolPolicy`, plus `maxTokensPerCall`: a
 * request asking for more output tokens is denied, and the policy middleware sets it on requests
 * that ask for none.
 */
export interface ModelPolicy {
  name: string;
  models: string[];
  allowedScopes?: string[];
  deny?: boolean;
  requireApproval?: boolean;
  approvers?: string[];
  maxTokensPerCall?: number;
  reason?: string;
}

export type PolicyInput = { kind: 'tool'; name: string; args: unknown } | { kind: 'model'; model: string; request?: ModelRequest | undefined };

/** What a custom rule may answer; `undefined` means "no opinion". */
export type PolicyRuleResult =
  | { decision: 'allow' }
  | { decision: 'deny'; reason: string }
  | { decision: 'require_approval'; reason: string; approvers?: string[] };

/** Any check that globs cannot express. A throw denies (fail closed). */
export interface CustomPolicyRule {
  name: string;
  /** Which calls it sees (default both). */
  appliesTo?: 'tool' | 'model' | 'both';
  check: (input: PolicyInput, ctx: ExecutionContext) => PolicyRuleResult | undefined;
}

/**
 * A named (and optionally versioned) set of rules, selected by a job's `PolicyRef`.
 * `defaultDecision` applies when no rule applies (default `allow`; `deny` makes an allow-list).
 */
export interface PolicySet {
  name: string;
  version?: string;
  tools?: ToolPolicy[];
  models?: ModelPolicy[];
  rules?: CustomPolicyRule[];
  defaultDecision?: 'allow' | 'deny';
}

/** One decision, for audit events. */
export interface PolicyDecisionRecord {
  target: 'tool' | 'model';
  /** Tool name or model id. */
  subject: string;
  policySet: string | undefined;
  scopeId: string;
  jobId: string | undefined;
  decision: PolicyDecision;
}
