import { InMemoryEventBus } from '@baton/agent-runtime';
import { describe, expect, it } from 'vitest';
import { ActionTokenVault } from './action-token-vault.js';

const info = (actionId: string, jobId: string) => ({ actionId, jobId, resumeToken: `token-of-${actionId}`, stepKey: `${jobId}:0` });

describe('ActionTokenVault', () => {
  it('gives a token only for its own job, and once it has seen the event, only to its scope', async () => {
    const bus = new InMemoryEventBus();
    const vault = new ActionTokenVault();
    const unwatch = vault.watch(bus);
    vault.onActionRequired(info('act-1', 'job-1'));
    expect(vault.tokenFor({ actionId: 'act-1', jobId: 'job-2', scopeId: 'a' })).toBeUndefined();
    await bus.publish({ type: 'action.required', jobId: 'job-1', scopeId: 'a', data: { actionId: 'act-1', actionType: 'approval' } });
    await new Promise((r) => setTimeout(r, 0));
    expect(vault.tokenFor({ actionId: 'act-1', jobId: 'job-1', scopeId: 'a' })).toBe('token-of-act-1');
    expect(vault.tokenFor({ actionId: 'act-1', jobId: 'job-1', scopeId: 'b' })).toBeUndefined();
    unwatch();
  });

  it('forgets tokens when their action is answered or their job ends', async () => {
    const bus = new InMemoryEventBus();
    const vault = new ActionTokenVault();
    vault.watch(bus);
    vault.onActionRequired(info('act-1', 'job-1'));
    vault.onActionRequired(info('act-2', 'job-2'));
    vault.onActionRequired(info('act-3', 'job-2'));
    await bus.publish({ type: 'action.resolved', jobId: 'job-1', scopeId: 'a', data: { actionId: 'act-1' } });
    await bus.publish({ type: 'job.cancelled', jobId: 'job-2', scopeId: 'a', data: { from: 'waiting_for_action' } });
    await new Promise((r) => setTimeout(r, 0));
    expect(vault.size).toBe(0);
  });

  it('is bounded in size and in time', () => {
    let now = 0;
    const vault = new ActionTokenVault({ maxEntries: 2, ttlMs: 1_000, now: () => now });
    vault.onActionRequired(info('a1', 'j'));
    vault.onActionRequired(info('a2', 'j'));
    vault.onActionRequired(info('a3', 'j'));
    expect(vault.size).toBe(2);
    expect(vault.tokenFor({ actionId: 'a1', jobId: 'j', scopeId: 's' })).toBeUndefined();
    expect(vault.tokenFor({ actionId: 'a3', jobId: 'j', scopeId: 's' })).toBe('token-of-a3');
    now = 1_000;
    expect(vault.tokenFor({ actionId: 'a3', jobId: 'j', scopeId: 's' })).toBeUndefined();
    expect(() => new ActionTokenVault({ maxEntries: 0 })).toThrow(expect.objectContaining({ code: 'invalid_argument', argument: 'maxEntries' }));
  });
});
