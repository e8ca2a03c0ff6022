import { describe, expect, it } from 'vitest';
import { AbortError, CircuitOpenError, TimeoutError } from '../errors/engine-errors.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { AuthenticationError, ProviderConnectionError, ProviderOverloadedError, ProviderServerError, RateLimitError } from '../errors/provider-errors.js';
import { ExecutionEngine } from './execution-engine.js';
import { FakeModel, fakeInternals, userMessage } from './fake-model.test.js';
import { DEFAULT_RETRY, isRetryableError, resolveRetryOptions, retryDelayMs } from './retry.js';

const server500 = () => new ProviderServerError({ message: 'boom', provider: 'fake', status: 500 });

describe('retryDelayMs', () => {
  const retryOptions = { maxRetries: 5, initialDelayMs: 100, maxDelayMs: 1000 };

  it('is exponential with full jitter, capped', () => {
    const delays = [1, 2, 3, 4, 5].map((retry) => retryDelayMs({ retry, error: server500(), retryOptions, random: () => 0.999 }));
    expect(delays).toEqual([99, 199, 399, 799, 999]);
    expect(retryDelayMs({ retry: 3, error: server500(), retryOptions, random: () => 0 })).toBe(0);
    expect(retryDelayMs({ retry: 3, error: server500(), retryOptions, random: () => 0.5 })).toBe(200);
  });

  it("honours the provider's retry-after when larger, capped at maxDelayMs", () => {
    const limited = (retryAfterMs: number) => new RateLimitError({ message: 'slow down', provider: 'fake', retryAfterMs });
    expect(retryDelayMs({ retry: 1, error: limited(700), retryOptions, random: () => 0.5 })).toBe(700);
    expect(retryDelayMs({ retry: 1, error: limited(60_000), retryOptions, random: () => 0.5 })).toBe(1000);
    expect(retryDelayMs({ retry: 4, error: limited(10), retryOptions, random: () => 0.5 })).toBe(400);
  });
});

describe('isRetryableError and resolveRetryOptions', () => {
  it('retries 429, 5xx, 529, timeouts and connection resets; not auth, aborts, open circuits or foreign errors', () => {
    expect(isRetryableError(new RateLimitError({ message: '', provider: 'p' }))).toBe(true);
    expect(isRetryableError(server500())).toBe(true);
    expect(isRetryableError(new ProviderOverloadedError({ message: '', provider: 'p', status: 529 }))).toBe(true);
    expect(isRetryableError(new ProviderConnectionError({ message: 'ECONNRESET', provider: 'p' }))).toBe(true);
    expect(isRetryableError(new TimeoutError(10))).toBe(true);
    expect(isRetryableError(new AuthenticationError({ message: '', provider: 'p', status: 401 }))).toBe(false);
    expect(isRetryableError(new AbortError())).toBe(false);
    expect(isRetryableError(new CircuitOpenError('p', 'm'))).toBe(false);
    expect(isRetryableError(new Error('ECONNRESET'))).toBe(false);
  });

  it('applies defaults, turns off with false and rejects bad values', () => {
    expect(resolveRetryOptions(undefined)).toBe(DEFAULT_RETRY);
    expect(resolveRetryOptions({ maxRetries: 4 })).toEqual({ ...DEFAULT_RETRY, maxRetries: 4 });
    expect(resolveRetryOptions(false).maxRetries).toBe(0);
    expect(() => resolveRetryOptions({ maxRetries: -1 })).toThrow(InvalidArgumentError);
    expect(() => resolveRetryOptions({ initialDelayMs: Number.NaN })).toThrow(InvalidArgumentError);
  });
});

describe('engine retries', () => {
  it('retries retryable errors with backoff until success', async () => {
    const provider = new FakeModel({ steps: [{ error: server500() }, { error: server500() }, 'ok'] });
    const { internals, sleeps } = fakeInternals(0.5);
    const retries: unknown[] = [];
    const engine = new ExecutionEngine({ provider, retry: { maxRetries: 3, initialDelayMs: 100 }, _internal: internals });
    engine.hooks.on('retry', (e) => void retries.push([e.attempt, e.delayMs, e.provider, e.model]));
    const result = await engine.complete(userMessage('x'));
    expect(result).toMatchObject({ text: 'ok', attempts: 3 });
    expect(sleeps).toEqual([50, 100]);
    expect(retries).toEqual([
      [1, 50, 'fake', 'fake-1'],
      [2, 100, 'fake', 'fake-1'],
    ]);
  });

  it('gives up after maxRetries and throws the last error', async () => {
    const last = server500();
    const provider = new FakeModel({ steps: [{ error: server500() }, { error: server500() }, { error: last }, 'never'] });
    const { internals } = fakeInternals();
    const engine = new ExecutionEngine({ provider, _internal: internals });
    await expect(engine.complete(userMessage('x'))).rejects.toBe(last);
    expect(provider.calls).toHaveLength(3);
  });

  it('waits for retry-after on a 429', async () => {
    const provider = new FakeModel({ steps: [{ error: new RateLimitError({ message: '429', provider: 'fake', retryAfterMs: 2000 }) }, 'ok'] });
    const { internals, sleeps } = fakeInternals(0.1);
    const engine = new ExecutionEngine({ provider, _internal: internals });
    await engine.complete(userMessage('x'));
    expect(sleeps).toEqual([2000]);
  });

  it('does not retry a non-retryable error', async () => {
    const auth = new AuthenticationError({ message: 'no key', provider: 'fake', status: 401 });
    const provider = new FakeModel({ steps: [{ error: auth }, 'ok'] });
    const { internals, sleeps } = fakeInternals();
    const engine = new ExecutionEngine({ provider, _internal: internals });
    await expect(engine.complete(userMessage('x'))).rejects.toBe(auth);
    expect(provider.calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('is configurable per call, and false disables it', async () => {
    const provider = new FakeModel({ steps: [{ error: server500() }] });
    const { internals } = fakeInternals();
    const engine = new ExecutionEngine({ provider, retry: { maxRetries: 1 }, breaker: false, _internal: internals });
    await expect(engine.complete(userMessage('x'), { retry: false })).rejects.toThrow('boom');
    expect(provider.calls).toHaveLength(1);
    await expect(engine.complete(userMessage('x'), { retry: { maxRetries: 4 } })).rejects.toThrow('boom');
    expect(provider.calls).toHaveLength(6);
  });

  it('stops retrying once the caller aborted (during the backoff)', async () => {
    const provider = new FakeModel({ steps: [{ error: server500() }, 'ok'] });
    const controller = new AbortController();
    const engine = new ExecutionEngine({
      provider,
      _internal: {
        random: () => 1,
        sleep: async () => {
          controller.abort();
          throw new AbortError();
        },
      },
    });
    await expect(engine.complete(userMessage('x'), { signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
    expect(provider.calls).toHaveLength(1);
  });

  it('the default sleep is cut short by the abort signal', async () => {
    const provider = new FakeModel({ steps: [{ error: server500() }, 'ok'] });
    const engine = new ExecutionEngine({ provider, retry: { initialDelayMs: 60_000 }, _internal: { random: () => 1 } });
    const controller = new AbortController();
    const call = engine.complete(userMessage('x'), { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    const started = Date.now();
    await expect(call).rejects.toBeInstanceOf(AbortError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('sends the same Idempotency-Key header on every retry', async () => {
    const provider = new FakeModel({ steps: [{ error: server500() }, 'ok'] });
    const { internals } = fakeInternals();
    const engine = new ExecutionEngine({ provider, _internal: internals });
    await engine.complete(userMessage('x'), { idempotencyKey: 'order-42' });
    expect(provider.calls.map((c) => c.options.headers?.['Idempotency-Key'])).toEqual(['order-42', 'order-42']);
  });
});
