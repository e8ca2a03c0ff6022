import type { ModelCallContext, ModelRequest, ModelResponse, ToolCallContext, ToolResult } from '@baton/llm-client';
import { describe, expect, it, vi } from 'vitest';
import type { ExecutionContext } from '../context/execution-context.js';
import { PolicyEngine } from './policy-engine.js';
import { policyMiddleware } from './policy-middleware.js';

const ctx: ExecutionContext = { scopeId: 'tenant-a', principalId: 'u1', jobId: 'job-1', budgets: {}, policyRef: { name: 'main' } };
const engine = new PolicyEngine({
  sets: [
    {
      name: 'main',
      tools: [
        { name: 'no-shell', tools: ['shell.*'], deny: true, reason: 'shell is off' },
        { name: 'refund-approval', tools: ['payments.refund'], requireApproval: true, approvers: ['finance'] },
      ],
      models: [
        { name: 'cap', models: ['gpt-*'], maxTokensPerCall: 1000 },
        { name: 'no-opus', models: ['claude-opus-*'], deny: true },
        { name: 'ask-o1', models: ['o1*'], requireApproval: true },
      ],
    },
  ],
});

function toolCall(name: string, args: unknown): ToolCallContext {
  return { kind: 'tool', toolCall: { id: 'call-1', name, arguments: JSON.stringify(args) }, args, idempotencyKey: 'job-1:3' } as unknown as ToolCallContext;
}

function modelCall(request: Partial<ModelRequest>): ModelCallContext {
  return { kind: 'model', request: { messages: [], ...request } } as unknown as ModelCallContext;
}

const response: ModelResponse = { text: 'ok', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, totalTokens: 2 }, provider: 'scripted', model: 'm' };
const output: ToolResult = { type: 'output', output: 42, content: '42' };

describe('policyMiddleware', () => {
  const suspend: ToolResult = { type: 'suspend', reason: 'approval required', data: { actionId: 'act-1' } };

  it('runs an allowed tool call', async () => {
    const mw = policyMiddleware(engine, ctx, { onApprovalRequired: () => suspend });
    const next = vi.fn(async () => output);
    expect(await mw.tool!(toolCall('search', { q: 'x' }), next)).toBe(output);
    expect(next).toHaveBeenCalledOnce();
  });

  it('turns a denied tool call into a tool error the model sees, without running it', async () => {
    const mw = policyMiddleware(engine, ctx, { onApprovalRequired: () => suspend });
    const next = vi.fn(async () => output);
    const result = await mw.tool!(toolCall('shell.exec', { cmd: 'rm -rf /' }), next);
    expect(next).not.toHaveBeenCalled();
    expect(result).toMatchObject({ type: 'error', content: expect.stringContaining('shell is off'), error: { code: 'policy_denied', rule: 'no-shell', subject: 'shell.exec' } });
  });

  it('hands a tool call needing approval to the callback and returns its result', async () => {
    const onApprovalRequired = vi.fn(async () => suspend);
    const mw = policyMiddleware(engine, ctx, { onApprovalRequired });
    const next = vi.fn(async () => output);
    const call = toolCall('payments.refund', { amount: 10 });
    expect(await mw.tool!(call, next)).toBe(suspend);
    expect(next).not.toHaveBeenCalled();
    expect(onApprovalRequired).toHaveBeenCalledWith({ decision: expect.objectContaining({ decision: 'require_approval', rule: 'refund-approval', approvers: ['finance'] }), call, ctx });
  });

  it('caps maxTokens on model calls, throws on a denied model and on approval without a handler', async () => {
    const mw = policyMiddleware(engine, ctx, { onApprovalRequired: () => suspend });
    const next = vi.fn(async (c: ModelCallContext) => ({ ...response, model: String(c.request.maxTokens) }));
    expect((await mw.model!(modelCall({ model: 'gpt-4o' }), next)).model).toBe('1000');
    expect((await mw.model!(modelCall({ model: 'gpt-4o', maxTokens: 200 }), next)).model).toBe('200');
    await expect(mw.model!(modelCall({ model: 'gpt-4o', maxTokens: 5000 }), next)).rejects.toMatchObject({ code: 'policy_denied', rule: 'cap' });
    await expect(mw.model!(modelCall({ model: 'claude-opus-4' }), next)).rejects.toMatchObject({ code: 'policy_denied', target: 'model', subject: 'claude-opus-4' });
    await expect(mw.model!(modelCall({ model: 'o1-mini' }), next)).rejects.toMatchObject({ code: 'policy_approval_required' });
    expect(next).toHaveBeenCalledTimes(2);
    const withHandler = policyMiddleware(engine, ctx, { onApprovalRequired: () => suspend, onModelApprovalRequired: () => response });
    expect(await withHandler.model!(modelCall({ model: 'o1-mini' }), next)).toBe(response);
  });

  it('requires the approval callback', () => {
    expect(() => policyMiddleware(engine, ctx, {} as never)).toThrow(expect.objectContaining({ code: 'invalid_argument', argument: 'onApprovalRequired' }));
  });
});
