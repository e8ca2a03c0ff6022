export { compileGlobs, globMatch } from './glob.js';
export { PolicyEngine, type PolicyEngineOptions } from './policy-engine.js';
export {
  policyMiddleware,
  type PolicyApprovalDecision,
  type ModelApprovalRequest,
  type PolicyMiddlewareOptions,
  type ToolApprovalRequest,
} from './policy-middleware.js';
export type {
  CustomPolicyRule,
  ModelPolicy,
  PolicyDecision,
  PolicyDecisionRecord,
  PolicyInput,
  PolicyRuleResult,
  PolicySet,
  ToolPolicy,
} from './policy-types.js';
