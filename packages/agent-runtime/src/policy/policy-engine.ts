import { InvalidArgumentError, type ModelRequest } from '@baton/llm-client';
import type { ExecutionContext, PolicyRef } from '../context/execution-context.js';
import { PolicySetConflictError, UnknownPolicySetError } from '../errors/policy-errors.js';
import { compileGlobs } from './glob.js';
import type { CustomPolicyRule, ModelPolicy, PolicyDecision, PolicyDecisionRecord, PolicyInput, PolicySet, ToolPolicy } from './policy-types.js';

export interface PolicyEngineOptions {
  sets?: PolicySet[];
  /** The set used when a context carries no `policyRef`. Without it such contexts are allowed everything. */
  defaultSet?: string;
  /** Every decision, for audit (`policy.decision` events). A throwing listener is ignored. */
  onDecision?: (record: PolicyDecisionRecord) => void;
}

type Verdict = PolicyDecision;

interface CompiledTool {
  policy: ToolPolicy;
  matches: (name: string) => boolean;
  scopeAllowed?: (scopeId: string) => boolean;
}

interface CompiledModel {
  policy: ModelPolicy;
  matches: (model: string) => boolean;
  scopeAllowed?: (scopeId: string) => boolean;
}

interface CompiledSet {
  set: PolicySet;
  tools: CompiledTool[];
  models: CompiledModel[];
  rules: CustomPolicyRule[];
}

/**
 * Decides whether a job may call a tool or a model.
 *
 * Evaluation: the set named by `ctx.policyRef` (latest registered version unless the ref names
 * one) is looked up; every rule that applies is evaluated — tool/model policies in their order,
 * then custom rules in theirs — and the results combine as **deny > require_approval > allow**.
 * The first rule (in that order) with the winning decision is the one reported. When no rule
 * applies, the set's `defaultDecision` decides (rule `<set>:default`). A predicate or custom rule
 * that throws denies.
 */
export class PolicyEngine {
  private readonly sets = new Map<string, CompiledSet[]>();
  private readonly defaultSet: string | undefined;
  private readonly onDecision: ((record: PolicyDecisionRecord) => void) | undefined;

  constructor(options: PolicyEngineOptions = {}) {
    this.defaultSet = options.defaultSet;
    this.onDecision = options.onDecision;
    for (const set of options.sets ?? []) this.register(set);
  }

  /** Adds a policy set; the same name and version twice is a `PolicySetConflictError`. */
  register(set: PolicySet): this {
    const compiled = compileSet(set);
    const versions = this.sets.get(set.name) ?? [];
    if (versions.some((v) => v.set.version === set.version)) throw new PolicySetConflictError(set.name, set.version);
    versions.push(compiled);
    this.sets.set(set.name, versions);
    return this;
  }

  /** The set a context selects, or undefined when it selects none. Throws `UnknownPolicySetError`. */
  resolveSet(ref: PolicyRef | undefined): PolicySet | undefined {
    return this.compiledFor(ref)?.set;
  }

  checkTool(name: string, args: unknown, ctx: ExecutionContext): PolicyDecision {
    if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('name', 'a tool name is required');
    const compiled = this.compiledFor(ctx.policyRef);
    const decision = compiled ? evaluate(compiled, { kind: 'tool', name, args }, ctx) : { decision: 'allow' as const };
    this.report('tool', name, compiled, ctx, decision);
    return decision;
  }

  checkModel(model: string, request: ModelRequest | undefined, ctx: ExecutionContext): PolicyDecision {
    if (typeof model !== 'string') throw new InvalidArgumentError('model', 'a model id is required');
    const compiled = this.compiledFor(ctx.policyRef);
    const decision = compiled ? evaluate(compiled, { kind: 'model', model, request }, ctx) : { decision: 'allow' as const };
    this.report('model', model, compiled, ctx, decision);
    return decision;
  }

  /** The smallest `maxTokensPerCall` of the model policies that apply, if any. */
  maxTokensPerCall(model: string, ctx: ExecutionContext): number | undefined {
    const compiled = this.compiledFor(ctx.policyRef);
    let max: number | undefined;
    for (const m of compiled?.models ?? []) {
      if (m.policy.maxTokensPerCall !== undefined && m.matches(model)) max = Math.min(max ?? Number.POSITIVE_INFINITY, m.policy.maxTokensPerCall);
    }
    return max;
  }

  private compiledFor(ref: PolicyRef | undefined): CompiledSet | undefined {
    const name = ref?.name ?? this.defaultSet;
    if (name === undefined) return undefined;
    const versions = this.sets.get(name);
    if (!versions || versions.length === 0) throw new UnknownPolicySetError(name, ref?.version);
    if (ref?.version === undefined) return versions[versions.length - 1];
    const match = versions.find((v) => v.set.version === ref.version);
    if (!match) throw new UnknownPolicySetError(name, ref.version);
    return match;
  }

  private report(target: 'tool' | 'model', subject: string, compiled: CompiledSet | undefined, ctx: ExecutionContext, decision: PolicyDecision): void {
    if (!this.onDecision) return;
    try {
      this.onDecision({ target, subject, policySet: compiled?.set.name, scopeId: ctx.scopeId, jobId: ctx.jobId, decision });
    } catch {
      // audit listeners never change a decision
    }
  }
}

function evaluate(compiled: CompiledSet, input: PolicyInput, ctx: ExecutionContext): PolicyDecision {
  const verdicts: Verdict[] = [];
  if (input.kind === 'tool') {
    for (const t of compiled.tools) {
      if (!t.matches(input.name)) continue;
      const p = t.policy;
      if (p.when) {
        let applies: boolean;
        try {
          applies = p.when(input.args, ctx) === true;
        } catch (error) {
          verdicts.push({ decision: 'deny', rule: p.name, reason: `argument check failed: ${error instanceof Error ? error.message : String(error)}` });
          continue;
        }
        if (!applies) continue;
      }
      verdicts.push(verdictOf(p, t.scopeAllowed, ctx.scopeId, `tool '${input.name}'`));
    }
  } else {
    for (const m of compiled.models) {
      if (!m.matches(input.model)) continue;
      const p = m.policy;
      const requested = input.request?.maxTokens;
      if (p.maxTokensPerCall !== undefined && requested !== undefined && requested > p.maxTokensPerCall) {
        verdicts.push({ decision: 'deny', rule: p.name, reason: `maxTokens ${requested} exceeds the limit of ${p.maxTokensPerCall} per call` });
        continue;
      }
      verdicts.push(verdictOf(p, m.scopeAllowed, ctx.scopeId, `model '${input.model}'`));
    }
  }
  for (const rule of compiled.rules) {
    const appliesTo = rule.appliesTo ?? 'both';
    if (appliesTo !== 'both' && appliesTo !== input.kind) continue;
    let result;
    try {
      result = rule.check(input, ctx);
    } catch (error) {
      verdicts.push({ decision: 'deny', rule: rule.name, reason: `rule failed: ${error instanceof Error ? error.message : String(error)}` });
      continue;
    }
    if (result === undefined) continue;
    verdicts.push(result.decision === 'allow' ? { decision: 'allow', rule: rule.name } : { ...result, rule: rule.name });
  }
  const winner = verdicts.find((v) => v.decision === 'deny') ?? verdicts.find((v) => v.decision === 'require_approval') ?? verdicts.find((v) => v.decision === 'allow');
  if (winner) return winner;
  const subject = input.kind === 'tool' ? `tool '${input.name}'` : `model '${input.model}'`;
  return compiled.set.defaultDecision === 'deny'
    ? { decision: 'deny', rule: `${compiled.set.name}:default`, reason: `no rule of policy set '${compiled.set.name}' allows ${subject}` }
    : { decision: 'allow', rule: `${compiled.set.name}:default` };
}

function verdictOf(p: ToolPolicy | ModelPolicy, scopeAllowed: ((s: string) => boolean) | undefined, scopeId: string, subject: string): Verdict {
  if (scopeAllowed && !scopeAllowed(scopeId)) return { decision: 'deny', rule: p.name, reason: p.reason ?? `scope '${scopeId}' may not use ${subject}` };
  if (p.deny) return { decision: 'deny', rule: p.name, reason: p.reason ?? `${subject} is denied` };
  if (p.requireApproval) {
    return { decision: 'require_approval', rule: p.name, reason: p.reason ?? `${subject} requires approval`, ...(p.approvers ? { approvers: [...p.approvers] } : {}) };
  }
  return { decision: 'allow', rule: p.name };
}

function compileSet(set: PolicySet): CompiledSet {
  if (!set || typeof set.name !== 'string' || set.name.length === 0) throw new InvalidArgumentError('set.name', 'a policy set needs a name');
  if (set.version !== undefined && (typeof set.version !== 'string' || set.version.length === 0)) throw new InvalidArgumentError('set.version', 'must be a non-empty string');
  if (set.defaultDecision !== undefined && set.defaultDecision !== 'allow' && set.defaultDecision !== 'deny') {
    throw new InvalidArgumentError('set.defaultDecision', "must be 'allow' or 'deny'");
  }
  const tools = (set.tools ?? []).map((policy, i): CompiledTool => {
    const at = `set.tools.${i}`;
    checkCommon(policy, at);
    if (policy.when !== undefined && typeof policy.when !== 'function') throw new InvalidArgumentError(`${at}.when`, 'must be a function');
    return { policy, matches: compileGlobs(policy.tools, `${at}.tools`), ...scopes(policy, at) };
  });
  const models = (set.models ?? []).map((policy, i): CompiledModel => {
    const at = `set.models.${i}`;
    checkCommon(policy, at);
    if (policy.maxTokensPerCall !== undefined && (!Number.isInteger(policy.maxTokensPerCall) || policy.maxTokensPerCall <= 0)) {
      throw new InvalidArgumentError(`${at}.maxTokensPerCall`, 'must be a positive integer');
    }
    return { policy, matches: compileGlobs(policy.models, `${at}.models`), ...scopes(policy, at) };
  });
  const rules = (set.rules ?? []).map((rule, i) => {
    if (!rule || typeof rule.name !== 'string' || rule.name.length === 0) throw new InvalidArgumentError(`set.rules.${i}.name`, 'a rule needs a name');
    if (typeof rule.check !== 'function') throw new InvalidArgumentError(`set.rules.${i}.check`, 'must be a function');
    return rule;
  });
  return { set, tools, models, rules };
}

function checkCommon(policy: ToolPolicy | ModelPolicy, at: string): void {
  if (!policy || typeof policy.name !== 'string' || policy.name.length === 0) throw new InvalidArgumentError(`${at}.name`, 'a policy needs a name');
  if (policy.deny && policy.requireApproval) throw new InvalidArgumentError(at, 'a policy either denies or requires approval');
  if (policy.approvers !== undefined && (!Array.isArray(policy.approvers) || policy.approvers.some((a) => typeof a !== 'string' || a.length === 0))) {
    throw new InvalidArgumentError(`${at}.approvers`, 'must be principal ids');
  }
}

function scopes(policy: ToolPolicy | ModelPolicy, at: string): { scopeAllowed?: (scopeId: string) => boolean } {
  return policy.allowedScopes === undefined ? {} : { scopeAllowed: compileGlobs(policy.allowedScopes, `${at}.allowedScopes`) };
}
