import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ExecutionContext } from '../context/execution-context.js';
import type { Signal } from '../ports/signal-channel.js';
import { signalChannelName } from '../ports/signal-channel.js';
import type { ActionEvent } from './action-events.js';
import { ActionManager, type ActionManagerOptions } from './action-manager.js';
import { ActionTypeRegistry } from './action-type-registry.js';
import { defineActionType } from './action-type.js';
import { InMemoryActionStore } from './in-memory-action-store.js';
import { InMemorySignalChannel } from './in-memory-signal-channel.js';

function setup(options: Partial<ActionManagerOptions> = {}) {
  let clock = 1_700_000_000_000;
  let ids = 0;
  const store = new InMemoryActionStore();
  const signals = new InMemorySignalChannel();
  const events: ActionEvent[] = [];
  const manager = new ActionManager({ store, signals, now: () => clock, generateId: () => `act-${++ids}`, onEvent: (e) => events.push(e), ...options });
  const ctx: ExecutionContext = { scopeId: 'scope-a', principalId: 'requester', jobId: 'job-1', budgets: {} };
  return { store, signals, manager, ctx, events, advance: (ms: number) => (clock += ms), now: () => clock };
}

const scopeA = { scopeId: 'scope-a', principalId: 'alice' };

describe('ActionManager.requireAction', () => {
  it('returns a 256-bit token and stores only its SHA-256', async () => {
    const { manager, ctx, store, now } = setup();
    const { action, resumeToken } = await manager.requireAction({ title: 'Refund 12 EUR?', payload: { amount: 12 }, timeoutSeconds: 60 }, ctx);
    expect(resumeToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(resumeToken, 'base64url')).toHaveLength(32);
    expect(action.tokenHash).toBe(createHash('sha256').update(resumeToken).digest('hex'));
    const stored = await store.get({ scopeId: 'scope-a', actionId: action.id });
    expect(JSON.stringify(stored)).not.toContain(resumeToken);
    expect(stored).toMatchObject({ status: 'pending', type: 'approval', jobId: 'job-1', stepKey: `action:${action.id}`, expiresAt: now() + 60_000, version: 1 });
    const other = await manager.requireAction({ title: 'Again' }, ctx);
    expect(other.resumeToken).not.toBe(resumeToken);
  });

  it('rejects an invalid spec at once', async () => {
    const { manager, ctx } = setup();
    await expect(manager.requireAction({ title: 'x', approvers: ['a'], requiredApprovals: 2 }, ctx)).rejects.toMatchObject({ code: 'invalid_argument', argument: 'spec.requiredApprovals' });
    await expect(manager.requireAction({ title: 'x', approvers: ['a', 'a'] }, ctx)).rejects.toMatchObject({ argument: 'spec.approvers' });
    await expect(manager.requireAction({ title: 'x', onTimeout: 'default' }, ctx)).rejects.toMatchObject({ argument: 'spec.defaultResolution' });
    await expect(manager.requireAction({ title: 'x', onTimeout: 'default', defaultResolution: { approved: 'no' } }, ctx)).rejects.toMatchObject({ argument: 'spec.defaultResolution' });
    await expect(manager.requireAction({ title: 'x', onTimeout: 'escalate' }, ctx)).rejects.toMatchObject({ argument: 'spec.escalateTo' });
    await expect(manager.requireAction({ title: 'x', timeoutSeconds: 1e9 }, ctx)).rejects.toMatchObject({ argument: 'spec.timeoutSeconds' });
    await expect(manager.requireAction({ title: '' }, ctx)).rejects.toMatchObject({ argument: 'spec.title' });
    await expect(manager.requireAction({ title: 'x', type: 'nope' }, ctx)).rejects.toMatchObject({ code: 'unknown_action_type' });
    await expect(manager.requireAction({ title: 'x' }, { ...ctx, jobId: undefined })).rejects.toMatchObject({ argument: 'ctx.jobId' });
    await expect(manager.requireAction({ title: 'x', onTimeout: 'escalate', escalateTo: { approvers: ['b'], requiredApprovals: 3 } }, ctx)).rejects.toMatchObject({
      argument: 'spec.escalateTo.requiredApprovals',
    });
  });

  it('refuses a token generator that returns fewer than 128 bits', async () => {
    const { manager, ctx } = setup({ generateToken: () => 'short' });
    await expect(manager.requireAction({ title: 'x' }, ctx)).rejects.toMatchObject({ argument: 'generateToken' });
  });
});

describe('ActionManager.resolve', () => {
  it('resolves with a valid answer, signals waiters and emits an event without the token hash', async () => {
    const { manager, ctx, signals, events } = setup();
    const { action, resumeToken } = await manager.requireAction({ title: 'Send the email?' }, ctx);
    const received: Signal[] = [];
    await signals.subscribe(signalChannelName({ kind: 'action.resolved', scopeId: 'scope-a', subjectId: action.id }), (s) => void received.push(s));
    const resolved = await manager.resolve(resumeToken, { approved: true, comment: 'fine' }, scopeA);
    expect(resolved).toMatchObject({ status: 'resolved', resolution: { approved: true, comment: 'fine' }, resolvedBy: 'alice', version: 2 });
    expect(resolved.approvals).toEqual([{ principalId: 'alice', decision: 'approve', comment: 'fine', resolution: { approved: true, comment: 'fine' }, at: expect.any(Number) }]);
    await Promise.resolve();
    expect(received.map((s) => s.data?.['status'])).toEqual(['resolved']);
    expect(events.map((e) => e.type)).toEqual(['action.required', 'action.resolved']);
    expect(events.every((e) => !('tokenHash' in e.action))).toBe(true);
  });

  it("hands a final answer's wake-up signal to the write, and publishes it only when the write did not send it", async () => {
    const { manager, ctx, signals, store } = setup();
    const received: Signal[] = [];
    const given: Array<string | undefined> = [];
    const resolveWith = async (sends: boolean) => {
      const { action, resumeToken } = await manager.requireAction({ title: 'Go?' }, ctx);
      await signals.subscribe(signalChannelName({ kind: 'action.resolved', scopeId: 'scope-a', subjectId: action.id }), (s) => void received.push(s));
      await manager.resolve(resumeToken, { approved: true }, {
        ...scopeA,
        write: async (answer, signal) => {
          given.push(signal && `${signal.channel} ${signal.signal.kind} ${String(signal.signal.data?.['status'])}`);
          const result = await store.compareAndSet(answer);
          return result.ok && sends ? { ...result, signalled: true } : result;
        },
      });
      await Promise.resolve();
      return action.id;
    };
    const first = await resolveWith(true);
    expect(given).toEqual([`${signalChannelName({ kind: 'action.resolved', scopeId: 'scope-a', subjectId: first })} action.resolved resolved`]);
    expect(received).toEqual([]); // the write said it sent it
    const second = await resolveWith(false);
    expect(received.map((s) => s.subjectId)).toEqual([second]);
    // An approval that leaves the action pending carries no signal.
    const { resumeToken } = await manager.requireAction({ title: 'Two?', approvers: ['alice', 'bob'], requiredApprovals: 2 }, ctx);
    await manager.resolve(resumeToken, { approved: true }, { ...scopeA, write: async (answer, signal) => (given.push(signal === undefined ? 'none' : 'some'), store.compareAndSet(answer)) });
    expect(given.at(-1)).toBe('none');
  });

  it('rejects a forged or malformed token and changes nothing', async () => {
    const { manager, ctx, store } = setup();
    const { action } = await manager.requireAction({ title: 'x' }, ctx);
    const forged = randomBytes(32).toString('base64url');
    await expect(manager.resolve(forged, { approved: true }, scopeA)).rejects.toMatchObject({ code: 'invalid_resume_token' });
    await expect(manager.resolve('not a token!', { approved: true }, scopeA)).rejects.toMatchObject({ code: 'invalid_resume_token' });
    await expect(manager.resolve(action.tokenHash, { approved: true }, scopeA)).rejects.toMatchObject({ code: 'invalid_resume_token' });
    expect(await store.get({ scopeId: 'scope-a', actionId: action.id })).toEqual(action);
  });

  it("rejects another scope's token as invalid and changes nothing", async () => {
    const { manager, ctx, store } = setup();
    const { action, resumeToken } = await manager.requireAction({ title: 'x' }, ctx);
    await expect(manager.resolve(resumeToken, { approved: true }, { scopeId: 'scope-b', principalId: 'mallory' })).rejects.toMatchObject({
      code: 'invalid_resume_token',
      scopeId: 'scope-b',
    });
    expect(await store.get({ scopeId: 'scope-a', actionId: action.id })).toEqual(action);
    await expect(manager.cancel(action.id, { scopeId: 'scope-b' })).rejects.toMatchObject({ code: 'action_not_found' });
  });

  it('rejects a reused token and changes nothing', async () => {
    const { manager, ctx, store } = setup();
    const { action, resumeToken } = await manager.requireAction({ title: 'x' }, ctx);
    const first = await manager.resolve(resumeToken, { approved: true }, scopeA);
    await expect(manager.resolve(resumeToken, { approved: false }, { scopeId: 'scope-a', principalId: 'bob' })).rejects.toMatchObject({
      code: 'action_already_resolved',
      status: 'resolved',
    });
    expect(await store.get({ scopeId: 'scope-a', actionId: action.id })).toEqual(first);
  });

  it('rejects a token past its expiry, before and after the sweep, and changes nothing', async () => {
    const { manager, ctx, store, advance } = setup();
    const { action, resumeToken } = await manager.requireAction({ title: 'x', timeoutSeconds: 30 }, ctx);
    advance(30_000);
    await expect(manager.resolve(resumeToken, { approved: true }, scopeA)).rejects.toMatchObject({ code: 'action_expired', actionId: action.id });
    expect(await store.get({ scopeId: 'scope-a', actionId: action.id })).toEqual(action);
    await manager.expireDue();
    await expect(manager.resolve(resumeToken, { approved: true }, scopeA)).rejects.toMatchObject({ code: 'action_expired' });
  });

  it('rejects a malformed resolution naming the field; the action stays pending and the token valid', async () => {
    const { manager, ctx, store } = setup();
    const { action, resumeToken } = await manager.requireAction({ title: 'x' }, ctx);
    await expect(manager.resolve(resumeToken, { approved: 'yes' }, scopeA)).rejects.toMatchObject({ code: 'invalid_resolution', field: 'approved', actionType: 'approval' });
    await expect(manager.resolve(resumeToken, { approved: true, sneaky: 1 }, scopeA)).rejects.toMatchObject({ code: 'invalid_resolution', field: 'sneaky' });
    await expect(manager.resolve(resumeToken, 'approve', scopeA)).rejects.toMatchObject({ code: 'invalid_resolution', field: '' });
    expect(await store.get({ scopeId: 'scope-a', actionId: action.id })).toEqual(action);
    expect((await manager.resolve(resumeToken, { approved: true }, scopeA)).status).toBe('resolved');
  });

  it('counts each approver once and resolves at n of m', async () => {
    const { manager, ctx, events } = setup();
    const { action, resumeToken } = await manager.requireAction({ title: 'Deploy?', approvers: ['alice', 'bob', 'carol'], requiredApprovals: 2 }, ctx);
    const afterAlice = await manager.resolve(resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'alice' });
    expect(afterAlice).toMatchObject({ status: 'pending', approvals: [{ principalId: 'alice', decision: 'approve' }] });
    await expect(manager.resolve(resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'alice' })).rejects.toMatchObject({ code: 'duplicate_approval' });
    await expect(manager.resolve(resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'dave' })).rejects.toMatchObject({ code: 'approver_not_allowed' });
    const afterBob = await manager.resolve(resumeToken, { approved: true, comment: 'ok' }, { scopeId: 'scope-a', principalId: 'bob' });
    expect(afterBob).toMatchObject({ status: 'resolved', resolvedBy: 'bob', resolution: { approved: true, comment: 'ok' } });
    expect(afterBob.approvals.map((a) => a.principalId)).toEqual(['alice', 'bob']);
    await expect(manager.resolve(resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'carol' })).rejects.toMatchObject({ code: 'action_already_resolved' });
    expect(events.filter((e) => e.action.id === action.id).map((e) => e.type)).toEqual(['action.required', 'action.approval_recorded', 'action.resolved']);
  });

  it("rejects the action at once when any approver rejects (veto)", async () => {
    const { manager, ctx } = setup();
    const { resumeToken } = await manager.requireAction({ title: 'Deploy?', approvers: ['alice', 'bob', 'carol'], requiredApprovals: 2 }, ctx);
    await manager.resolve(resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'alice' });
    const rejected = await manager.resolve(resumeToken, { approved: false, comment: 'not on a Friday' }, { scopeId: 'scope-a', principalId: 'bob' });
    expect(rejected).toMatchObject({ status: 'rejected', resolvedBy: 'bob', resolution: { approved: false } });
  });

  it('lets exactly one of two concurrent resolutions win', async () => {
    const { manager, ctx } = setup();
    const { resumeToken } = await manager.requireAction({ title: 'x' }, ctx);
    const results = await Promise.allSettled([
      manager.resolve(resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'alice' }),
      manager.resolve(resumeToken, { approved: false }, { scopeId: 'scope-a', principalId: 'bob' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected');
    expect(loser?.status === 'rejected' && loser.reason).toMatchObject({ code: 'action_already_resolved' });
  });

  it('counts two concurrent approvals of different approvers both', async () => {
    const { manager, ctx } = setup();
    const { action, resumeToken } = await manager.requireAction({ title: 'x', approvers: ['alice', 'bob', 'carol'], requiredApprovals: 2 }, ctx);
    await Promise.all([
      manager.resolve(resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'alice' }),
      manager.resolve(resumeToken, { approved: true }, { scopeId: 'scope-a', principalId: 'bob' }),
    ]);
    const stored = await manager.get(action.id, { scopeId: 'scope-a' });
    expect(stored?.status).toBe('resolved');
    expect(stored?.approvals.map((a) => a.principalId).sort()).toEqual(['alice', 'bob']);
  });

  it('validates against a registered custom action type', async () => {
    const choice = defineActionType({ name: 'choose-flight', resolutionSchema: z.object({ flightId: z.string().regex(/^[A-Z]{2}\d+$/) }) });
    const { manager, ctx } = setup({ actionTypes: new ActionTypeRegistry({ types: [choice] }) });
    const { resumeToken } = await manager.requireAction({ type: 'choose-flight', title: 'Pick a flight', payload: { options: ['LH400', 'AF1'] } }, ctx);
    await expect(manager.resolve(resumeToken, { flightId: 'lh400' }, scopeA)).rejects.toMatchObject({ code: 'invalid_resolution', field: 'flightId' });
    expect(await manager.resolve(resumeToken, { flightId: 'LH400' }, scopeA)).toMatchObject({ status: 'resolved', resolution: { flightId: 'LH400' } });
  });

  it('is resolvable by another manager over the same store (another host)', async () => {
    const { manager, ctx, store, signals, now } = setup();
    const { resumeToken } = await manager.requireAction({ title: 'x' }, ctx);
    const elsewhere = new ActionManager({ store, signals, now });
    expect((await elsewhere.resolve(resumeToken, { approved: true }, scopeA)).status).toBe('resolved');
  });
});

describe('ActionManager.cancel and reissueToken', () => {
  it('cancels a pending action; resolving it then fails; cancelling again changes nothing', async () => {
    const { manager, ctx } = setup();
    const { action, resumeToken } = await manager.requireAction({ title: 'x' }, ctx);
    const other = await manager.requireAction({ title: 'y' }, { ...ctx, jobId: 'job-2' });
    const cancelled = await manager.cancelJobActions({ scopeId: 'scope-a', jobId: 'job-1' });
    expect(cancelled.map((a) => [a.id, a.status])).toEqual([[action.id, 'cancelled']]);
    await expect(manager.resolve(resumeToken, { approved: true }, scopeA)).rejects.toMatchObject({ code: 'action_cancelled' });
    expect(await manager.cancel(action.id, { scopeId: 'scope-a' })).toEqual(cancelled[0]);
    expect((await manager.get(other.action.id, { scopeId: 'scope-a' }))?.status).toBe('pending');
  });

  it('reissues a token: the old one stops working, the new one works', async () => {
    const { manager, ctx } = setup();
    const { action, resumeToken } = await manager.requireAction({ title: 'x' }, ctx);
    const reissued = await manager.reissueToken(action.id, { scopeId: 'scope-a' });
    expect(reissued.resumeToken).not.toBe(resumeToken);
    await expect(manager.resolve(resumeToken, { approved: true }, scopeA)).rejects.toMatchObject({ code: 'invalid_resume_token' });
    expect((await manager.resolve(reissued.resumeToken, { approved: true }, scopeA)).status).toBe('resolved');
  });
});
