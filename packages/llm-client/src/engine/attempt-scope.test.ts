import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortError, TimeoutError } from '../errors/engine-errors.js';
import { AttemptScope } from './attempt-scope.js';
import { ExecutionEngine } from './execution-engine.js';
import { FakeModel, collect, userMessage } from './fake-model.test.js';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** An AbortSignal and the number of 'abort' listeners it really holds. */
function countingSignal() {
  const controller = new AbortController();
  const signal = controller.signal;
  return { controller, signal, live: () => getEventListeners(signal, 'abort').length };
}

describe('AttemptScope', () => {
  it('tells a timeout from a caller abort and aborts the provider signal either way', async () => {
    const timed = new AttemptScope({ timeoutMs: 5, what: 'The test' });
    await expect(timed.race(new Promise(() => undefined))).rejects.toBeInstanceOf(TimeoutError);
    expect(timed.signal.aborted).toBe(true);
    timed.dispose();
    const caller = new AbortController();
    const aborted = new AttemptScope({ signal: caller.signal, timeoutMs: 10_000, what: 'The test' });
    const pending = aborted.race(new Promise(() => undefined));
    caller.abort('stop');
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(aborted.mapError(new Error('provider saw the abort'))).toBeInstanceOf(AbortError);
    aborted.dispose();
  });

  it('leaves no timer once disposed, and one listener on a signal however many scopes watch it', async () => {
    const before = timers();
    const s = countingSignal();
    const scopes = [1, 2, 3].map(() => new AttemptScope({ signal: s.signal, timeoutMs: 60_000, what: 'The test' }));
    expect(timers()).toBe(before + 3);
    expect(s.live()).toBe(1);
    const [first, second, third] = scopes as [AttemptScope, AttemptScope, AttemptScope];
    first.dispose();
    second.dispose();
    expect(timers()).toBe(before + 1);
    // The caller's abort reaches the scope still in flight only; the listener goes with it.
    s.controller.abort('stop');
    expect(first.signal.aborted).toBe(false);
    expect(second.signal.aborted).toBe(false);
    expect(third.signal.aborted).toBe(true);
    expect(third.error).toBeInstanceOf(AbortError);
    expect(s.live()).toBe(0);
    third.dispose();
    expect(timers()).toBe(before);
  });
});

describe('engine calls leave nothing behind', () => {
  it('complete() with a signal and a timeout clears its timer; calls on one signal share one listener', async () => {
    const before = timers();
    const s = countingSignal();
    const engine = new ExecutionEngine({ provider: new FakeModel({ steps: ['a', 'b', 'c'] }) });
    for (let i = 0; i < 3; i++) await engine.complete(userMessage('x'), { signal: s.signal, timeoutMs: 60_000 });
    expect(s.live()).toBeLessThanOrEqual(1);
    expect(timers()).toBe(before);
  });

  it('stream() clears them when it ends, when it fails and when its consumer stops', async () => {
    const before = timers();
    const s = countingSignal();
    const engine = new ExecutionEngine({ provider: new FakeModel({ steps: ['a b c', { error: new Error('bug') }, 'd e f'] }) });
    await collect(engine.stream(userMessage('x'), { signal: s.signal, timeoutMs: 60_000 }));
    await expect(collect(engine.stream(userMessage('x'), { signal: s.signal, timeoutMs: 60_000 }))).rejects.toThrow('bug');
    for await (const e of engine.stream(userMessage('x'), { signal: s.signal, timeoutMs: 60_000 })) if (e.type === 'text-delta') break;
    expect(s.live()).toBeLessThanOrEqual(1);
    expect(timers()).toBe(before);
  });
});
