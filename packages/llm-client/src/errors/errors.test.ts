import { describe, expect, it } from 'vitest';
import { BatonError, CircuitOpenError, ProviderServerError, RateLimitError, InvalidRequestError, isRetryable } from './index.js';

describe('errors', () => {
  it('are recognised by marker, carry code and retryable', () => {
    const e = new RateLimitError({ message: 'slow down', provider: 'openai', model: 'gpt-4o', retryAfterMs: 1200 });
    expect(BatonError.isInstance(e)).toBe(true);
    expect(BatonError.isInstance(new Error('x'))).toBe(false);
    expect(e.code).toBe('rate_limited');
    expect(e.status).toBe(429);
    expect(isRetryable(e)).toBe(true);
    expect(isRetryable(new InvalidRequestError({ message: 'bad', provider: 'openai', status: 400 }))).toBe(false);
    expect(new ProviderServerError({ message: 'boom', provider: 'x', status: 500 }).retryable).toBe(true);
  });

  it('serialise to JSON with their locating ids and without the cause', () => {
    const json = new CircuitOpenError('openai', 'gpt-4o', new Error('secret')).toJSON();
    expect(json).toMatchObject({ name: 'CircuitOpenError', code: 'circuit_open', provider: 'openai', model: 'gpt-4o', retryable: true });
    expect(JSON.stringify(json)).not.toContain('secret');
  });
});
