import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AbortError, OutputValidationError, TimeoutError } from '../errors/engine-errors.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { InvalidRequestError } from '../errors/provider-errors.js';
import { PriceTable } from '../types/pricing.js';
import { RequestContext } from '../types/request-context.js';
import { ExecutionEngine } from './execution-engine.js';
import { FakeModel, fakeInternals, userMessage } from './fake-model.test.js';
import { InMemoryResponseCache } from './response-cache.js';

describe('ExecutionEngine.complete', () => {
  it('answers, fills the cost from its price table and reports one attempt', async () => {
    const provider = new FakeModel({ steps: ['hi'] });
    const prices = new PriceTable({ 'fake:*': { inputPerMillion: '1', outputPerMillion: '2' } });
    const engine = new ExecutionEngine({ provider, prices });
    const result = await engine.complete(userMessage('hello'));
    expect(result).toMatchObject({ text: 'hi', source: 'provider', attempts: 1, provider: 'fake', model: 'fake-1' });
    // 10 input tokens * 1e-6 + 5 output tokens * 2e-6
    expect(result.cost).toEqual({ nanoUsd: 20_000, usd: '0.000020000' });
    expect(result.object).toBeUndefined();
  });

  it('leaves the cost out when the table has no price for the model', async () => {
    const engine = new ExecutionEngine({ provider: new FakeModel(), prices: new PriceTable({}) });
    expect((await engine.complete(userMessage('x'))).cost).toBeUndefined();
  });

  it('passes the request context to the provider and to hooks, and sends no idempotency header without a key', async () => {
    const provider = new FakeModel();
    const engine = new ExecutionEngine({ provider });
    const context = RequestContext.create({ tenantId: 't1', jobId: 'j1' });
    const seen: unknown[] = [];
    engine.hooks.on('request.start', (e) => void seen.push(['start', e.context, e.mode]));
    engine.hooks.on('request.finish', (e) => void seen.push(['finish', e.context, e.attempts, typeof e.latencyMs]));
    await engine.complete(userMessage('x'), { context });
    expect(provider.calls[0]?.options.context).toBe(context);
    expect(provider.calls[0]?.options.headers).toBeUndefined();
    expect(provider.calls[0]?.options.signal).toBeUndefined();
    expect(seen).toEqual([
      ['start', context, 'complete'],
      ['finish', context, 1, 'number'],
    ]);
  });

  it('emits request.error with the failure, and a throwing hook never breaks the call', async () => {
    const failing = new InvalidRequestError({ message: 'bad', provider: 'fake', status: 400 });
    const engine = new ExecutionEngine({ provider: new FakeModel({ steps: [{ error: failing }, 'fine'] }) });
    const errors: unknown[] = [];
    engine.hooks.on('request.error', (e) => void errors.push(e.error));
    engine.hooks.on('request.start', () => {
      throw new Error('hook bug');
    });
    engine.hooks.on('request.finish', async () => {
      throw new Error('async hook bug');
    });
    await expect(engine.complete(userMessage('x'))).rejects.toBe(failing);
    expect(errors).toEqual([failing]);
    await expect(engine.complete(userMessage('x'))).resolves.toMatchObject({ text: 'fine' });
  });

  it('rejects invalid options at once with InvalidArgumentError', async () => {
    expect(() => new ExecutionEngine({ provider: {} as never })).toThrow(InvalidArgumentError);
    expect(() => new ExecutionEngine({ provider: new FakeModel(), timeoutMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => new ExecutionEngine({ provider: new FakeModel(), retry: { maxRetries: 1.5 } })).toThrow(InvalidArgumentError);
    expect(() => new ExecutionEngine({ provider: new FakeModel(), breaker: { consecutiveFailures: 0 } })).toThrow(InvalidArgumentError);
    const engine = new ExecutionEngine({ provider: new FakeModel() });
    await expect(engine.complete({ messages: 'no' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(engine.complete(userMessage('x'), { idempotencyKey: '' })).rejects.toThrow(InvalidArgumentError);
    expect(() => engine.stream(userMessage('x'), { timeoutMs: 0 })).toThrow(InvalidArgumentError);
  });
});

describe('structured output', () => {
  const Weather = z.object({ city: z.string(), tempC: z.number() });

  it('sends the JSON schema and returns the validated object', async () => {
    const provider = new FakeModel({ steps: ['{"city":"Oslo","tempC":3}'] });
    const engine = new ExecutionEngine({ provider });
    const result = await engine.complete({ ...userMessage('weather?'), output: Weather });
    expect(result.object).toEqual({ city: 'Oslo', tempC: 3 });
    const sent = provider.calls[0]?.request;
    expect(sent?.responseFormat).toMatchObject({ type: 'json', schema: { type: 'object', required: ['city', 'tempC'] } });
    expect(sent && 'output' in sent).toBe(false);
  });

  it('tolerates a ```json fence', async () => {
    const engine = new ExecutionEngine({ provider: new FakeModel({ steps: ['```json\n{"city":"Rome","tempC":21}\n```'] }) });
    expect((await engine.complete({ ...userMessage('x'), output: Weather })).object).toEqual({ city: 'Rome', tempC: 21 });
  });

  it('throws OutputValidationError naming the issues', async () => {
    const engine = new ExecutionEngine({ provider: new FakeModel({ steps: ['{"city":"Rome","tempC":"warm"}', 'not json'] }) });
    const wrong = engine.complete({ ...userMessage('x'), output: Weather });
    await expect(wrong).rejects.toThrow(OutputValidationError);
    await expect(wrong).rejects.toThrow(/tempC/);
    await expect(engine.complete({ ...userMessage('x'), output: Weather })).rejects.toThrow(/not valid JSON/);
  });
});

describe('timeouts and cancellation', () => {
  it('a per-attempt timeout fails the attempt with TimeoutError and aborts the provider call', async () => {
    const provider = new FakeModel({ steps: [{ hang: true }] });
    const engine = new ExecutionEngine({ provider, retry: false });
    await expect(engine.complete(userMessage('x'), { timeoutMs: 20 })).rejects.toBeInstanceOf(TimeoutError);
    expect(provider.calls[0]?.options.signal?.aborted).toBe(true);
  });

  it('a timeout is retried, and settles even when the provider ignores its signal', async () => {
    const provider = new FakeModel({ steps: [{ hang: true, ignoreSignal: true }, 'second try'] });
    const { internals, sleeps } = fakeInternals();
    const engine = new ExecutionEngine({ provider, timeoutMs: 15, _internal: internals });
    const result = await engine.complete(userMessage('x'));
    expect(result).toMatchObject({ text: 'second try', attempts: 2 });
    expect(sleeps).toHaveLength(1);
  });

  it("the caller's abort cancels the HTTP request, is not retried, and leaves no listener behind", async () => {
    const provider = new FakeModel({ steps: [{ hang: true }] });
    const engine = new ExecutionEngine({ provider });
    const controller = new AbortController();
    const call = engine.complete(userMessage('x'), { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 5));
    controller.abort('user left');
    await expect(call).rejects.toBeInstanceOf(AbortError);
    expect(provider.calls).toHaveLength(1);
    expect(provider.calls[0]?.options.signal?.aborted).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('an already aborted signal fails at once without calling the provider', async () => {
    const provider = new FakeModel();
    const engine = new ExecutionEngine({ provider });
    await expect(engine.complete(userMessage('x'), { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(provider.calls).toHaveLength(0);
  });
});

describe('response cache', () => {
  it('is opt-in: a second identical call is answered from the cache', async () => {
    const provider = new FakeModel({ steps: ['first', 'second'] });
    const engine = new ExecutionEngine({ provider, cache: true });
    const events: string[] = [];
    engine.hooks.on('cache.hit', () => void events.push('hit'));
    engine.hooks.on('cache.miss', () => void events.push('miss'));
    const a = await engine.complete(userMessage('x'));
    const b = await engine.complete(userMessage('x'));
    expect([a.text, a.source, b.text, b.source, b.attempts]).toEqual(['first', 'provider', 'first', 'cache', 0]);
    expect(b.cost).toEqual(a.cost);
    expect(events).toEqual(['miss', 'hit']);
    expect(provider.calls).toHaveLength(1);
  });

  it('keys on the whole normalized request, and a call can opt out', async () => {
    const provider = new FakeModel({ steps: ['a', 'b', 'c', 'd'] });
    const engine = new ExecutionEngine({ provider, cache: new InMemoryResponseCache({ maxEntries: 10 }) });
    await engine.complete({ ...userMessage('x'), temperature: 0 });
    expect((await engine.complete({ ...userMessage('x'), temperature: 1 })).text).toBe('b');
    expect((await engine.complete({ ...userMessage('x'), model: 'other' })).text).toBe('c');
    expect((await engine.complete({ ...userMessage('x'), temperature: 0 }, { cache: false })).text).toBe('d');
    expect((await engine.complete({ temperature: 0, ...userMessage('x') })).text).toBe('a');
  });

  it('is not used without opting in', async () => {
    const provider = new FakeModel({ steps: ['a', 'b'] });
    const engine = new ExecutionEngine({ provider });
    await engine.complete(userMessage('x'));
    expect((await engine.complete(userMessage('x'))).text).toBe('b');
  });

  it('does not store an answer that failed validation', async () => {
    const provider = new FakeModel({ steps: ['oops', '{"ok":true}'] });
    const engine = new ExecutionEngine({ provider, cache: true });
    const schema = z.object({ ok: z.boolean() });
    await expect(engine.complete({ ...userMessage('x'), output: schema })).rejects.toThrow(OutputValidationError);
    expect((await engine.complete({ ...userMessage('x'), output: schema })).object).toEqual({ ok: true });
    expect((await engine.complete({ ...userMessage('x'), output: schema })).source).toBe('cache');
  });
});
