import { describe, expect, it } from 'vitest';
import type { ExecutionContext } from '../context/execution-context.js';
import { compileGlobs, globMatch } from './glob.js';
import { PolicyEngine } from './policy-engine.js';
import type { PolicyDecisionRecord, PolicySet } from './policy-types.js';

const ctx = (scopeId = 'tenant-a', policy = 'main', version?: string): ExecutionContext => ({
  scopeId,
  principalId: 'u1',
  jobId: 'job-1',
  budgets: {},
  policyRef: { name: policy, ...(version ? { version } : {}) },
});

describe('globs', () => {
  it('match whole names, with * across dots and ? for one character', () => {
    expect(globMatch('fs.*', 'fs.write')).toBe(true);
    expect(globMatch('fs.*', 'fs')).toBe(false);
    expect(globMatch('fs.*', 'xfs.write')).toBe(false);
    expect(globMatch('gpt-4o*', 'gpt-4o-mini')).toBe(true);
    expect(globMatch('gpt-4?', 'gpt-4o')).toBe(true);
    expect(globMatch('a.b', 'aXb')).toBe(false);
    expect(globMatch('(x)+', '(x)+')).toBe(true);
    expect(compileGlobs(['a', 'b*'])('bc')).toBe(true);
    expect(() => compileGlobs([])).toThrow(/at least one pattern/);
  });
});

describe('PolicyEngine', () => {
  const set: PolicySet = {
    name: 'main',
    tools: [
      { name: 'read-only', tools: ['fs.read', 'search.*'] },
      { name: 'no-shell', tools: ['shell.*'], deny: true, reason: 'shell is off' },
      { name: 'payments-approval', tools: ['payments.*'], requireApproval: true, approvers: ['finance'] },
      { name: 'big-refunds', tools: ['payments.refund'], when: (args) => (args as { amount: number }).amount > 1000, deny: true, reason: 'refunds over 1000 are not allowed' },
      { name: 'admin-only', tools: ['admin.*'], allowedScopes: ['tenant-admin*'] },
      { name: 'fs-write-approval', tools: ['fs.*'], requireApproval: true },
    ],
    models: [
      { name: 'small-models', models: ['gpt-4o-mini*', 'claude-haiku-*'], maxTokensPerCall: 2000 },
      { name: 'opus-approval', models: ['claude-opus-*'], requireApproval: true },
      { name: 'o1-tenant', models: ['o1*'], allowedScopes: ['tenant-b'] },
    ],
  };

  it('allows, denies and asks for approval by tool globs', () => {
    const engine = new PolicyEngine({ sets: [set] });
    expect(engine.checkTool('search.web', {}, ctx())).toEqual({ decision: 'allow', rule: 'read-only' });
    expect(engine.checkTool('shell.exec', {}, ctx())).toEqual({ decision: 'deny', rule: 'no-shell', reason: 'shell is off' });
    expect(engine.checkTool('payments.charge', {}, ctx())).toEqual({ decision: 'require_approval', rule: 'payments-approval', reason: "tool 'payments.charge' requires approval", approvers: ['finance'] });
    expect(engine.checkTool('weather', {}, ctx())).toEqual({ decision: 'allow', rule: 'main:default' });
  });

  it('applies deny over require_approval over allow, whatever the rule order', () => {
    const engine = new PolicyEngine({ sets: [set] });
    // fs.read matches 'read-only' (allow) and 'fs-write-approval' (approval): approval wins.
    expect(engine.checkTool('fs.read', {}, ctx())).toMatchObject({ decision: 'require_approval', rule: 'fs-write-approval' });
    // a big refund matches 'payments-approval' first and 'big-refunds' (deny) later: deny wins.
    expect(engine.checkTool('payments.refund', { amount: 5000 }, ctx())).toMatchObject({ decision: 'deny', rule: 'big-refunds' });
    expect(engine.checkTool('payments.refund', { amount: 50 }, ctx())).toMatchObject({ decision: 'require_approval', rule: 'payments-approval' });
  });

  it('denies a scope outside allowedScopes', () => {
    const engine = new PolicyEngine({ sets: [set] });
    expect(engine.checkTool('admin.reset', {}, ctx('tenant-admin-1'))).toEqual({ decision: 'allow', rule: 'admin-only' });
    expect(engine.checkTool('admin.reset', {}, ctx('tenant-a'))).toEqual({ decision: 'deny', rule: 'admin-only', reason: "scope 'tenant-a' may not use tool 'admin.reset'" });
  });

  it('checks models: globs, scopes, approval and max tokens per call', () => {
    const engine = new PolicyEngine({ sets: [set] });
    expect(engine.checkModel('gpt-4o-mini', { messages: [], maxTokens: 500 }, ctx())).toEqual({ decision: 'allow', rule: 'small-models' });
    expect(engine.checkModel('gpt-4o-mini', { messages: [], maxTokens: 5000 }, ctx())).toMatchObject({ decision: 'deny', rule: 'small-models', reason: expect.stringContaining('2000') });
    expect(engine.checkModel('claude-opus-4', undefined, ctx())).toMatchObject({ decision: 'require_approval', rule: 'opus-approval' });
    expect(engine.checkModel('o1-preview', undefined, ctx('tenant-a'))).toMatchObject({ decision: 'deny', rule: 'o1-tenant' });
    expect(engine.checkModel('o1-preview', undefined, ctx('tenant-b'))).toMatchObject({ decision: 'allow' });
    expect(engine.maxTokensPerCall('claude-haiku-4', ctx())).toBe(2000);
    expect(engine.maxTokensPerCall('gpt-4.1', ctx())).toBeUndefined();
  });

  it('runs custom rules after the policies; a throwing rule denies', () => {
    const engine = new PolicyEngine({
      sets: [
        {
          name: 'main',
          tools: [{ name: 'all', tools: ['*'] }],
          rules: [
            { name: 'night-freeze', appliesTo: 'tool', check: (input) => (input.kind === 'tool' && input.name === 'deploy' ? { decision: 'require_approval', reason: 'deploys need a human' } : undefined) },
            { name: 'broken', appliesTo: 'model', check: () => { throw new Error('lookup failed'); } },
          ],
        },
      ],
    });
    expect(engine.checkTool('deploy', {}, ctx())).toEqual({ decision: 'require_approval', rule: 'night-freeze', reason: 'deploys need a human' });
    expect(engine.checkTool('build', {}, ctx())).toEqual({ decision: 'allow', rule: 'all' });
    expect(engine.checkModel('any', undefined, ctx())).toEqual({ decision: 'deny', rule: 'broken', reason: 'rule failed: lookup failed' });
  });

  it("denies what no rule allows in a set with defaultDecision 'deny'", () => {
    const engine = new PolicyEngine({ sets: [{ name: 'strict', defaultDecision: 'deny', tools: [{ name: 'only-search', tools: ['search'] }] }] });
    expect(engine.checkTool('search', {}, ctx('t', 'strict'))).toEqual({ decision: 'allow', rule: 'only-search' });
    expect(engine.checkTool('email', {}, ctx('t', 'strict'))).toEqual({ decision: 'deny', rule: 'strict:default', reason: "no rule of policy set 'strict' allows tool 'email'" });
  });

  it('selects sets by PolicyRef and version, with a default set and typed errors', () => {
    const records: PolicyDecisionRecord[] = [];
    const engine = new PolicyEngine({
      defaultSet: 'base',
      onDecision: (r) => records.push(r),
      sets: [
        { name: 'base', tools: [{ name: 'base-deny', tools: ['x'], deny: true }] },
        { name: 'v', version: '1', tools: [{ name: 'v1', tools: ['x'], deny: true }] },
        { name: 'v', version: '2', tools: [{ name: 'v2', tools: ['x'] }] },
      ],
    });
    expect(engine.checkTool('x', {}, { scopeId: 's', principalId: 'p', budgets: {} })).toMatchObject({ rule: 'base-deny' });
    expect(engine.checkTool('x', {}, ctx('s', 'v'))).toMatchObject({ decision: 'allow', rule: 'v2' });
    expect(engine.checkTool('x', {}, ctx('s', 'v', '1'))).toMatchObject({ decision: 'deny', rule: 'v1' });
    expect(() => engine.checkTool('x', {}, ctx('s', 'v', '3'))).toThrow(expect.objectContaining({ code: 'unknown_policy_set', version: '3' }));
    expect(() => engine.checkTool('x', {}, ctx('s', 'nope'))).toThrow(expect.objectContaining({ code: 'unknown_policy_set' }));
    expect(() => engine.register({ name: 'v', version: '2' })).toThrow(expect.objectContaining({ code: 'policy_set_conflict' }));
    expect(records[0]).toMatchObject({ target: 'tool', subject: 'x', policySet: 'base', scopeId: 's', decision: { decision: 'deny' } });
    expect(new PolicyEngine().checkTool('anything', {}, { scopeId: 's', principalId: 'p', budgets: {} })).toEqual({ decision: 'allow' });
  });

  it('rejects malformed policies at registration', () => {
    expect(() => new PolicyEngine({ sets: [{ name: 'x', tools: [{ name: 'a', tools: [] }] }] })).toThrow(expect.objectContaining({ argument: 'set.tools.0.tools' }));
    expect(() => new PolicyEngine({ sets: [{ name: 'x', tools: [{ name: 'a', tools: ['*'], deny: true, requireApproval: true }] }] })).toThrow(expect.objectContaining({ argument: 'set.tools.0' }));
    expect(() => new PolicyEngine({ sets: [{ name: 'x', models: [{ name: 'm', models: ['*'], maxTokensPerCall: 0 }] }] })).toThrow(expect.objectContaining({ argument: 'set.models.0.maxTokensPerCall' }));
    expect(() => new PolicyEngine({ sets: [{ name: '' }] })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
