import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AllProvidersFailedError, CircuitOpenError } from '../errors/engine-errors.js';
import { InvalidRequestError, ProviderServerError, RateLimitError } from '../errors/provider-errors.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { ExecutionEngine } from './execution-engine.js';
import { FakeModel, collect, fakeInternals, textOf, userMessage } from './fake-model.test.js';
import { HookEmitter, type EngineHookEvents } from './hooks.js';

const fail = () => Promise.reject(new ProviderServerError({ message: '500', provider: 'p', status: 500 }));
const ok = () => Promise.resolve('ok');

// cockatiel's breaker reads the wall clock (Date.now) for its cool-down.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(1_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, half-opens after the cool-down, closes on success', async () => {
    const hooks = new HookEmitter<EngineHookEvents>();
    const seen: string[] = [];
    hooks.on('breaker.open', (e) => void seen.push(`open ${e.provider}:${e.model}`));
    hooks.on('breaker.half-open', () => void seen.push('half-open'));
    hooks.on('breaker.close', () => void seen.push('close'));
    const breaker = new CircuitBreaker({ provider: 'p', model: 'm', breaker: { consecutiveFailures: 3, halfOpenAfterMs: 1000 }, hooks });
    for (let i = 0; i < 3; i++) await expect(breaker.execute(fail)).rejects.toThrow('500');
    expect(breaker.state).toBe('open');
    const open = breaker.execute(ok);
    await expect(open).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(open).rejects.toMatchObject({ provider: 'p', model: 'm', cause: { status: 500 } });
    vi.setSystemTime(1_000_000 + 1001);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(seen).toEqual(['open p:m', 'half-open', 'close']);
  });

  it('a failed trial call opens it again; other calls fail fast while the trial is in flight', async () => {
    const breaker = new CircuitBreaker({ provider: 'p', model: 'm', breaker: { consecutiveFailures: 1, halfOpenAfterMs: 100 } });
    await expect(breaker.execute(fail)).rejects.toThrow('500');
    vi.setSystemTime(1_000_000 + 200);
    let release!: () => void;
    const trial = breaker.execute(() => new Promise<never>((_, reject) => (release = () => reject(new ProviderServerError({ message: 'still 500', provider: 'p', status: 500 })))));
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    release();
    await expect(trial).rejects.toThrow('still 500');
    expect(breaker.state).toBe('open');
  });

  it('opens on a failure ratio over a sliding window', async () => {
    const breaker = new CircuitBreaker({ provider: 'p', model: 'm', breaker: { consecutiveFailures: 100, failureRatio: { threshold: 0.5, windowSize: 4 } } });
    const run = (f: () => Promise<string>) => breaker.execute(f).catch(() => 'failed');
    // Window of 4: F S F S is 50%, not more than the threshold.
    for (const f of [fail, ok, fail, ok, fail]) await run(f);
    expect(breaker.state).toBe('closed');
    // The window slides: F F S F is 75%.
    await run(fail);
    expect(breaker.state).toBe('open');
  });

  it('only provider failures count: a 400 or a foreign error does not open it', async () => {
    const breaker = new CircuitBreaker({ provider: 'p', model: 'm', breaker: { consecutiveFailures: 1 } });
    await expect(breaker.execute(() => Promise.reject(new InvalidRequestError({ message: 'bad', provider: 'p', status: 400 })))).rejects.toThrow('bad');
    await expect(breaker.execute(() => Promise.reject(new TypeError('bug')))).rejects.toThrow('bug');
    expect(breaker.state).toBe('closed');
  });

  it('leases settle a stream-like call later', async () => {
    const breaker = new CircuitBreaker({ provider: 'p', model: 'm', breaker: { consecutiveFailures: 1 } });
    const lease = await breaker.acquire();
    expect(breaker.state).toBe('closed');
    lease.failure(new RateLimitError({ message: '429', provider: 'p' }));
    await Promise.resolve();
    await Promise.resolve();
    expect(breaker.state).toBe('open');
    await expect(breaker.acquire()).rejects.toBeInstanceOf(CircuitOpenError);
  });
});

describe('breaker and fallbacks in the engine', () => {
  it('a failing primary opens its breaker and the fallback answers', async () => {
    const primary = new FakeModel({ provider: 'primary', modelId: 'p-1', steps: [{ error: new ProviderServerError({ message: '500', provider: 'primary', status: 500 }) }] });
    const backup = new FakeModel({ provider: 'backup', modelId: 'b-1', steps: ['from backup'] });
    const { internals } = fakeInternals();
    const fallbacks: unknown[] = [];
    const engine = new ExecutionEngine({ provider: primary, fallbacks: [backup], retry: { maxRetries: 1 }, breaker: { consecutiveFailures: 4 }, _internal: internals });
    engine.hooks.on('fallback', (e) => void fallbacks.push([e.from.provider, e.to.provider, e.to.model]));
    const first = await engine.complete({ ...userMessage('x'), model: 'p-1' });
    expect(first).toMatchObject({ text: 'from backup', provider: 'backup', model: 'b-1', attempts: 3 });
    expect(backup.calls[0]?.request.model).toBe('b-1');
    await engine.complete(userMessage('x'));
    expect(engine.breakerState()).toBe('open');
    expect(primary.calls).toHaveLength(4);
    // Open: the primary is not called any more, the fallback answers at once.
    const third = await engine.complete(userMessage('x'));
    expect(third.text).toBe('from backup');
    expect(primary.calls).toHaveLength(4);
    expect(fallbacks).toEqual([
      ['primary', 'backup', 'b-1'],
      ['primary', 'backup', 'b-1'],
      ['primary', 'backup', 'b-1'],
    ]);
  });

  it('tries fallbacks in order and reports each failure when all fail', async () => {
    const err = (p: string) => new ProviderServerError({ message: `${p} down`, provider: p, status: 503 });
    const a = new FakeModel({ provider: 'a', steps: [{ error: err('a') }] });
    const b = new FakeModel({ provider: 'b', steps: [{ error: err('b') }] });
    const c = new FakeModel({ provider: 'c', steps: [{ error: err('c') }] });
    const engine = new ExecutionEngine({ provider: a, fallbacks: [b, c], retry: false });
    const failure = await engine.complete(userMessage('x')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AllProvidersFailedError);
    expect((failure as AllProvidersFailedError).errors.map((e) => (e as Error).message)).toEqual(['a down', 'b down', 'c down']);
    expect([a.calls.length, b.calls.length, c.calls.length]).toEqual([1, 1, 1]);
  });

  it('does not fall back on a non-retryable error (the request itself is wrong)', async () => {
    const bad = new InvalidRequestError({ message: 'bad request', provider: 'a', status: 400 });
    const a = new FakeModel({ provider: 'a', steps: [{ error: bad }] });
    const b = new FakeModel({ provider: 'b' });
    const engine = new ExecutionEngine({ provider: a, fallbacks: [b] });
    await expect(engine.complete(userMessage('x'))).rejects.toBe(bad);
    expect(b.calls).toHaveLength(0);
  });

  it('streams fall back too while nothing was delivered', async () => {
    const a = new FakeModel({ provider: 'a', steps: [{ error: new ProviderServerError({ message: '500', provider: 'a', status: 500 }), deliver: 1 }] });
    const b = new FakeModel({ provider: 'b', steps: ['hello from b'] });
    const engine = new ExecutionEngine({ provider: a, fallbacks: [b], retry: false });
    const stream = engine.stream(userMessage('x'));
    const events = await collect(stream);
    expect(textOf(events)).toBe('hello from b');
    expect(events.filter((e) => e.type === 'stream-start')).toEqual([{ type: 'stream-start', provider: 'b', model: 'fake-1' }]);
    expect((await stream.response).provider).toBe('b');
  });

  it('breakers are per provider+model', async () => {
    const primary = new FakeModel({ steps: [{ error: new ProviderServerError({ message: '500', provider: 'fake', status: 500 }) }] });
    const engine = new ExecutionEngine({ provider: primary, retry: false, breaker: { consecutiveFailures: 1 } });
    await engine.complete({ ...userMessage('x'), model: 'm1' }).catch(() => undefined);
    expect(engine.breakerState({ model: 'm1' })).toBe('open');
    expect(engine.breakerState({ model: 'm2' })).toBe('closed');
    await expect(engine.complete({ ...userMessage('x'), model: 'm1' })).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(engine.complete({ ...userMessage('x'), model: 'm2' })).rejects.toThrow('500');
  });
});
