import { describe, expect, it } from 'vitest';
import type { ExecutionContext } from '../context/execution-context.js';
import { ActionManager } from './action-manager.js';
import { InMemoryActionStore } from './in-memory-action-store.js';
import { InMemorySignalChannel } from './in-memory-signal-channel.js';

function setup() {
  let clock = 1_700_000_000_000;
  let ids = 0;
  const store = new InMemoryActionStore();
  const signals = new InMemorySignalChannel();
  const options = { store, signals, now: () => clock, generateId: () => `act-${++ids}` };
  const manager = new ActionManager(options);
  const ctx: ExecutionContext = { scopeId: 'scope-a', principalId: 'requester', jobId: 'job-1', budgets: {} };
  return { store, signals, manager, options, ctx, advance: (ms: number) => (clock += ms) };
}

describe('ActionManager.expireDue', () => {
  it("marks a 'fail' action expired once due, and leaves actions not yet due alone", async () => {
    const { manager, ctx, advance } = setup();
    const due = await manager.requireAction({ title: 'x', timeoutSeconds: 10 }, ctx);
    const later = await manager.requireAction({ title: 'y', timeoutSeconds: 60 }, ctx);
    advance(9_999);
    expect((await manager.expireDue()).outcomes).toEqual([]);
    advance(1);
    const { outcomes } = await manager.expireDue();
    expect(outcomes).toEqual([{ outcome: 'expired', action: expect.objectContaining({ id: due.action.id, status: 'expired', resolvedBy: 'system:timeout' }) }]);
    expect((await manager.get(later.action.id, { scopeId: 'scope-a' }))?.status).toBe('pending');
  });

  it("resolves a 'default' action with its default resolution", async () => {
    const { manager, ctx, advance } = setup();
    const yes = await manager.requireAction({ title: 'x', timeoutSeconds: 5, onTimeout: 'default', defaultResolution: { approved: true, comment: 'auto' } }, ctx);
    const no = await manager.requireAction({ title: 'y', timeoutSeconds: 5, onTimeout: 'default', defaultResolution: { approved: false } }, ctx);
    advance(5_000);
    const { outcomes } = await manager.expireDue();
    expect(outcomes.map((o) => [o.action.id, o.outcome, o.action.status])).toEqual([
      [yes.action.id, 'defaulted', 'resolved'],
      [no.action.id, 'defaulted', 'rejected'],
    ]);
    expect(outcomes[0]?.action.resolution).toEqual({ approved: true, comment: 'auto' });
  });

  it('escalates to another approver with a new linked action and token', async () => {
    const { manager, ctx, advance } = setup();
    const first = await manager.requireAction(
      { title: 'Refund?', approvers: ['agent-1'], timeoutSeconds: 60, onTimeout: 'escalate', escalateTo: { approvers: ['manager-1'], timeoutSeconds: 120 } },
      ctx,
    );
    advance(60_000);
    const { outcomes } = await manager.expireDue();
    expect(outcomes).toHaveLength(1);
    const [escalated] = outcomes;
    expect(escalated?.outcome).toBe('escalated');
    const next = escalated!.escalation!;
    expect(escalated?.action).toMatchObject({ id: first.action.id, status: 'escalated', escalatedToActionId: next.action.id });
    expect(next.action).toMatchObject({
      status: 'pending',
      title: 'Refund?',
      approvers: ['manager-1'],
      onTimeout: 'fail',
      timeoutSeconds: 120,
      escalatedFromActionId: first.action.id,
      jobId: 'job-1',
      stepKey: first.action.stepKey,
    });
    await expect(manager.resolve(first.resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'agent-1' })).rejects.toMatchObject({
      code: 'action_expired',
      escalatedToActionId: next.action.id,
    });
    await expect(manager.resolve(next.resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'agent-1' })).rejects.toMatchObject({ code: 'approver_not_allowed' });
    await manager.resolve(next.resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'manager-1' });
    const final = await manager.waitForResolution(first.action.id, { scopeId: 'scope-a', deadline: Date.now() + 1_000 });
    expect(final).toMatchObject({ id: next.action.id, status: 'resolved', resolvedBy: 'manager-1' });
  });

  it('lets only one of two concurrent sweepers apply the timeout', async () => {
    const { manager, options, ctx, advance, store } = setup();
    const other = new ActionManager(options);
    await manager.requireAction({ title: 'x', timeoutSeconds: 1, onTimeout: 'escalate', escalateTo: { approvers: ['boss'] } }, ctx);
    advance(1_000);
    const [a, b] = await Promise.all([manager.expireDue(), other.expireDue()]);
    expect(a.outcomes.length + b.outcomes.length).toBe(1);
    const pending = await store.listPending({ scopeId: 'scope-a' });
    expect(pending.map((p) => p.approvers)).toEqual([['boss']]);
  });

  it('does not sweep an action resolved in time', async () => {
    const { manager, ctx, advance } = setup();
    const { resumeToken } = await manager.requireAction({ title: 'x', timeoutSeconds: 1 }, ctx);
    await manager.resolve(resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'alice' });
    advance(5_000);
    expect((await manager.expireDue()).outcomes).toEqual([]);
  });
});
