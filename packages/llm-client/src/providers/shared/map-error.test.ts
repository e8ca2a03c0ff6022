import { AnthropicError, APIConnectionError as AnthropicConnectionError, APIError as AnthropicAPIError, APIUserAbortError as AnthropicAbort, APIConnectionTimeoutError as AnthropicTimeout } from '@anthropic-ai/sdk';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ProviderConnectionError,
  ProviderError,
  ProviderOverloadedError,
  RateLimitError,
  StreamInterruptedError,
  TimeoutError,
} from '../../errors/index.js';
import { mapProviderError, redact, type MapErrorContext } from './map-error.js';
import { parseRetryAfterMs } from './retry-after.js';

const openaiCtx: MapErrorContext = { provider: 'openai', model: 'gpt-x', sdk: { APIError, APIUserAbortError, APIConnectionError, APIConnectionTimeoutError }, timeoutMs: 1234 };
const anthropicCtx: MapErrorContext = {
  provider: 'anthropic',
  model: 'claude-x',
  sdk: { APIError: AnthropicAPIError, APIUserAbortError: AnthropicAbort, APIConnectionError: AnthropicConnectionError, APIConnectionTimeoutError: AnthropicTimeout },
};

describe('parseRetryAfterMs', () => {
  const headers = (init: Record<string, string>) => new Headers(init);
  it('reads retry-after-ms first, then retry-after seconds, then an HTTP date', () => {
    expect(parseRetryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(parseRetryAfterMs(headers({ 'retry-after': '1.5' }))).toBe(1500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfterMs(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }), now)).toBe(7000);
    expect(parseRetryAfterMs(headers({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }), now)).toBe(0);
  });
  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfterMs(headers({}))).toBeUndefined();
    expect(parseRetryAfterMs(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfterMs(headers({ 'retry-after-ms': 'x', 'retry-after': '-3' }))).toBeUndefined();
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
  });
});

describe('mapProviderError', () => {
  it('maps SDK abort, timeout and connection errors', () => {
    expect(mapProviderError(new APIUserAbortError(), openaiCtx)).toBeInstanceOf(AbortError);
    const timeout = mapProviderError(new APIConnectionTimeoutError(), openaiCtx);
    expect(timeout).toBeInstanceOf(TimeoutError);
    expect((timeout as TimeoutError).timeoutMs).toBe(1234);
    expect(mapProviderError(new AnthropicConnectionError({ message: 'reset' }), anthropicCtx)).toBeInstanceOf(ProviderConnectionError);
  });

  it('turns any error into AbortError once the signal has fired', () => {
    const controller = new AbortController();
    controller.abort(new Error('user left'));
    const error = mapProviderError(new TypeError('terminated'), { ...openaiCtx, signal: controller.signal });
    expect(error).toBeInstanceOf(AbortError);
    expect(error.message).toContain('user left');
  });

  it('maps an untyped failure after the stream started to StreamInterruptedError with the partial output', () => {
    const partial = { text: 'Hello wor', toolCalls: [{ id: 't1', name: 'f', arguments: '{"a":' }] };
    const fromAnthropic = mapProviderError(new AnthropicError('stream ended unexpectedly'), { ...anthropicCtx, partial });
    expect(fromAnthropic).toBeInstanceOf(StreamInterruptedError);
    expect(fromAnthropic).toMatchObject({ partialText: 'Hello wor', partialToolCalls: partial.toolCalls, retryable: true, provider: 'anthropic', model: 'claude-x' });
    const fromOpenAI = mapProviderError(new TypeError('terminated'), { ...openaiCtx, partial });
    expect(fromOpenAI).toBeInstanceOf(StreamInterruptedError);
    const before = mapProviderError(new TypeError('terminated'), openaiCtx);
    expect(before).toBeInstanceOf(ProviderError);
    expect((before as ProviderError).retryable).toBe(false);
  });

  it('maps an in-stream error event (no status) by its type', () => {
    const overloaded = new AnthropicAPIError(undefined, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, undefined, undefined);
    expect(mapProviderError(overloaded, anthropicCtx)).toBeInstanceOf(ProviderOverloadedError);
    const limited = new APIError(undefined, { message: 'slow', type: 'rate_limit_exceeded' }, undefined, undefined);
    expect(mapProviderError(limited, openaiCtx)).toBeInstanceOf(RateLimitError);
  });

  it('keeps Baton errors as they are and redacts keys from messages', () => {
    const own = new RateLimitError({ message: 'x', provider: 'p' });
    expect(mapProviderError(own, openaiCtx)).toBe(own);
    const leaked = mapProviderError(new Error('bad key sk-live-abcdef123456 and secret-xyz'), { ...openaiCtx, secrets: ['secret-xyz'] });
    expect(leaked.message).not.toMatch(/sk-live-abcdef123456|secret-xyz/);
    expect(redact('key sk-ant-api03-AAAABBBBCCCC end')).toBe('key [redacted] end');
  });
});
