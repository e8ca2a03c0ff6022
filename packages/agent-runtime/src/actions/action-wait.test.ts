import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExecutionContext } from '../context/execution-context.js';
import { SignalChannel, type Signal, type Unsubscribe } from '../ports/signal-channel.js';
import { ActionManager } from './action-manager.js';
import { InMemoryActionStore } from './in-memory-action-store.js';
import { InMemorySignalChannel } from './in-memory-signal-channel.js';

const ctx: ExecutionContext = { scopeId: 'scope-a', principalId: 'requester', jobId: 'job-1', budgets: {} };
const alice = { scopeId: 'scope-a', principalId: 'alice' };
const HOUR = 3_600_000;

/** A channel that loses every signal, to show that waits still end. */
class LossyChannel extends SignalChannel {
  async publish(_channel: string, _signal: Signal): Promise<void> {}
  async subscribe(): Promise<Unsubscribe> {
    return async () => {};
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ActionManager.waitForResolution', () => {
  it('is woken by the resolution signal (polling is an hour away)', async () => {
    const signals = new InMemorySignalChannel();
    const manager = new ActionManager({ store: new InMemoryActionStore(), signals, waitPollIntervalMs: HOUR });
    const { action, resumeToken } = await manager.requireAction({ title: 'x' }, ctx);
    const waiting = manager.waitForResolution(action.id, { scopeId: 'scope-a', deadline: Date.now() + HOUR });
    await vi.waitFor(() => expect(signals.subscriberCount(`baton:action.resolved:scope-a:${action.id}`)).toBe(1));
    await manager.resolve(resumeToken, { approved: true }, alice);
    expect(await waiting).toMatchObject({ id: action.id, status: 'resolved' });
    expect(signals.subscriberCount(`baton:action.resolved:scope-a:${action.id}`)).toBe(0);
  });

  it('ends at its deadline with ActionWaitTimeoutError and unsubscribes', async () => {
    vi.useFakeTimers();
    const signals = new InMemorySignalChannel();
    const manager = new ActionManager({ store: new InMemoryActionStore(), signals, now: () => Date.now() });
    const { action } = await manager.requireAction({ title: 'x' }, ctx);
    const deadline = Date.now() + 5_000;
    const waiting = manager.waitForResolution(action.id, { scopeId: 'scope-a', deadline });
    const outcome = expect(waiting).rejects.toMatchObject({ code: 'action_wait_timeout', actionId: action.id, deadline, retryable: true });
    await vi.advanceTimersByTimeAsync(5_000);
    await outcome;
    expect(signals.subscriberCount(`baton:action.resolved:scope-a:${action.id}`)).toBe(0);
    expect((await manager.get(action.id, { scopeId: 'scope-a' }))?.status).toBe('pending');
  });

  it('still sees the resolution by polling when the signal is lost', async () => {
    vi.useFakeTimers();
    const manager = new ActionManager({ store: new InMemoryActionStore(), signals: new LossyChannel(), now: () => Date.now(), waitPollIntervalMs: 1_000 });
    const { action, resumeToken } = await manager.requireAction({ title: 'x' }, ctx);
    const waiting = manager.waitForResolution(action.id, { scopeId: 'scope-a', deadline: Date.now() + HOUR });
    await manager.resolve(resumeToken, { approved: false }, alice);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await waiting).toMatchObject({ status: 'rejected' });
  });

  it('returns at once for a final action and follows no escalation when asked not to', async () => {
    const manager = new ActionManager({ store: new InMemoryActionStore(), signals: new InMemorySignalChannel() });
    const { action, resumeToken } = await manager.requireAction({ title: 'x' }, ctx);
    await manager.resolve(resumeToken, { approved: true }, alice);
    expect(await manager.waitForResolution(action.id, { scopeId: 'scope-a', deadline: Date.now() + 10, followEscalation: false })).toMatchObject({ status: 'resolved' });
  });

  it('stops when its AbortSignal fires', async () => {
    const manager = new ActionManager({ store: new InMemoryActionStore(), signals: new InMemorySignalChannel(), waitPollIntervalMs: HOUR });
    const { action } = await manager.requireAction({ title: 'x' }, ctx);
    const controller = new AbortController();
    const waiting = manager.waitForResolution(action.id, { scopeId: 'scope-a', deadline: Date.now() + HOUR, signal: controller.signal });
    controller.abort(new Error('job cancelled'));
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    await expect(manager.waitForResolution(action.id, { scopeId: 'scope-a', deadline: Date.now() + HOUR, signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('needs a deadline, and treats another scope as not found', async () => {
    const manager = new ActionManager({ store: new InMemoryActionStore(), signals: new InMemorySignalChannel() });
    const { action } = await manager.requireAction({ title: 'x' }, ctx);
    await expect(manager.waitForResolution(action.id, { scopeId: 'scope-a' } as never)).rejects.toMatchObject({ code: 'invalid_argument', argument: 'deadline' });
    await expect(manager.waitForResolution(action.id, { scopeId: 'scope-b', deadline: Date.now() + HOUR })).rejects.toMatchObject({ code: 'action_not_found' });
  });
});
