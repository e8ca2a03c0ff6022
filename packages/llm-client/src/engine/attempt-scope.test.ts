import { describe, expect, it } from 'vitest';
import { AbortError, TimeoutError } from '../errors/engine-errors.js';
import { AttemptScope } from './attempt-scope.js';
import { ExecutionEngine } from './execution-engine.js';
import { FakeModel, collect, userMessage } from './fake-model.test.js';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** An AbortSignal that counts its live 'abort' listeners. */
function countingSignal() {
  const controller = new AbortController();
  const signal = controller.signal;
  let live = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...a: Parameters<typeof add>) => {
    live++;
    add(...a);
  }) as typeof add;
  signal.removeEventListener = ((...a: Parameters<typeof remove>) => {
    live--;
    remove(...a);
  }) as typeof remove;
  return { controller, signal, live: () => live };
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

  it('leaves no timer and no listener once disposed', () => {
    const before = timers();
    const s = countingSignal();
    const scope = new AttemptScope({ signal: s.signal, timeoutMs: 60_000, what: 'The test' });
    expect(timers()).toBe(before + 1);
    expect(s.live()).toBe(1);
    scope.dispose();
    expect(timers()).toBe(before);
    expect(s.live()).toBe(0);
  });
});

describe('engine calls leave nothing behind', () => {
  it('complete() with a signal and a timeout clears its timer and listener', async () => {
    const before = timers();
    const s = countingSignal();
    const engine = new ExecutionEngine({ provider: new FakeModel() });
    await engine.complete(userMessage('x'), { signal: s.signal, timeoutMs: 60_000 });
    expect(s.live()).toBe(0);
    expect(timers()).toBe(before);
  });

  it('stream() clears them when it ends, when it fails and when its consumer stops', async () => {
    const before = timers();
    const s = countingSignal();
    const engine = new ExecutionEngine({ provider: new FakeModel({ steps: ['a b c', { error: new Error('bug') }, 'd e f'] }) });
    await collect(engine.stream(userMessage('x'), { signal: s.signal, timeoutMs: 60_000 }));
    await expect(collect(engine.stream(userMessage('x'), { signal: s.signal, timeoutMs: 60_000 }))).rejects.toThrow('bug');
    for await (const e of engine.stream(userMessage('x'), { signal: s.signal, timeoutMs: 60_000 })) if (e.type === 'text-delta') break;
    expect(s.live()).toBe(0);
    expect(timers()).toBe(before);
  });
});
