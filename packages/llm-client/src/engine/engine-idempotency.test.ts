import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AbortError, IdempotencyConflictError } from '../errors/engine-errors.js';
import { ProviderServerError } from '../errors/provider-errors.js';
import { RequestContext } from '../types/request-context.js';
import { ExecutionEngine } from './execution-engine.js';
import { FakeModel, collect, fakeInternals, textOf, userMessage } from './fake-model.test.js';

const slow = (text: string, ms = 10) => () => new Promise<string>((r) => setTimeout(() => r(text), ms));

describe('engine idempotency', () => {
  it('50 concurrent calls with one key reach the provider once and all get the answer', async () => {
    const provider = new FakeModel({ steps: [slow('the answer')] });
    const engine = new ExecutionEngine({ provider });
    const results = await Promise.all(Array.from({ length: 50 }, () => engine.complete(userMessage('x'), { idempotencyKey: 'k1' })));
    expect(provider.calls).toHaveLength(1);
    expect(new Set(results.map((r) => r.text))).toEqual(new Set(['the answer']));
    expect(results.filter((r) => r.source === 'provider')).toHaveLength(1);
    expect(results.filter((r) => r.source === 'idempotency-join')).toHaveLength(49);
    expect(results[1]?.attempts).toBe(0);
    const later = await engine.complete(userMessage('x'), { idempotencyKey: 'k1' });
    expect(later.source).toBe('idempotency-hit');
  });

  it('every caller gets its own copy of a shared result', async () => {
    const engine = new ExecutionEngine({ provider: new FakeModel({ steps: [{ text: 't', toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }] }] }) });
    const first = await engine.complete(userMessage('x'), { idempotencyKey: 'k' });
    first.toolCalls.push({ id: 'c2', name: 'g', arguments: '{}' });
    first.usage.outputTokens = 999;
    const hit = await engine.complete(userMessage('x'), { idempotencyKey: 'k' });
    expect(hit.toolCalls).toHaveLength(1);
    expect(hit.usage.outputTokens).toBe(5);
  });

  it('the same key with a different body is rejected', async () => {
    const engine = new ExecutionEngine({ provider: new FakeModel() });
    await engine.complete(userMessage('a'), { idempotencyKey: 'k' });
    await expect(engine.complete(userMessage('b'), { idempotencyKey: 'k' })).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(engine.complete({ ...userMessage('a'), temperature: 0.2 }, { idempotencyKey: 'k' })).rejects.toBeInstanceOf(IdempotencyConflictError);
    const stream = engine.stream(userMessage('b'), { idempotencyKey: 'k' });
    await expect(collect(stream)).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(stream.response).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it('a failed call may be retried with its key', async () => {
    const provider = new FakeModel({ steps: [{ error: new ProviderServerError({ message: '500', provider: 'fake', status: 500 }) }, 'recovered'] });
    const engine = new ExecutionEngine({ provider, retry: false });
    await expect(engine.complete(userMessage('x'), { idempotencyKey: 'k' })).rejects.toThrow('500');
    expect((await engine.complete(userMessage('x'), { idempotencyKey: 'k' })).text).toBe('recovered');
  });

  it('keys are per tenant, and the tenant scopes the Idempotency-Key header', async () => {
    const provider = new FakeModel({ steps: ['for A', 'for B'] });
    const engine = new ExecutionEngine({ provider });
    const a = await engine.complete(userMessage('x'), { idempotencyKey: 'k', context: RequestContext.create({ tenantId: 'A' }) });
    const b = await engine.complete(userMessage('x'), { idempotencyKey: 'k', context: RequestContext.create({ tenantId: 'B' }) });
    expect([a.text, b.text]).toEqual(['for A', 'for B']);
    expect(provider.calls.map((c) => c.options.headers)).toEqual([{ 'Idempotency-Key': 'A:k' }, { 'Idempotency-Key': 'B:k' }]);
  });

  it('a joiner that aborts leaves; the call goes on for the others', async () => {
    const provider = new FakeModel({ steps: [slow('shared', 20)] });
    const engine = new ExecutionEngine({ provider });
    const controller = new AbortController();
    const first = engine.complete(userMessage('x'), { idempotencyKey: 'k' });
    const quitter = engine.complete(userMessage('x'), { idempotencyKey: 'k', signal: controller.signal });
    controller.abort();
    await expect(quitter).rejects.toBeInstanceOf(AbortError);
    expect((await first).text).toBe('shared');
  });

  it('joiners of a structured-output call get the validated object', async () => {
    const provider = new FakeModel({ steps: [slow('{"n":7}')] });
    const engine = new ExecutionEngine({ provider });
    const schema = z.object({ n: z.number() });
    const [a, b] = await Promise.all([0, 1].map(() => engine.complete({ ...userMessage('x'), output: schema }, { idempotencyKey: 'k' })));
    expect([a?.object, b?.object]).toEqual([{ n: 7 }, { n: 7 }]);
  });

  it('streams are shared: a joiner gets the whole stream, a late caller the stored answer', async () => {
    const provider = new FakeModel({ steps: ['alpha beta gamma delta'] });
    const engine = new ExecutionEngine({ provider });
    const first = engine.stream(userMessage('x'), { idempotencyKey: 's' });
    const it = first[Symbol.asyncIterator]();
    const head = [(await it.next()).value, (await it.next()).value];
    const joiner = engine.stream(userMessage('x'), { idempotencyKey: 's' });
    const joined = await collect(joiner);
    const rest = [];
    for (let r = await it.next(); r.done !== true; r = await it.next()) rest.push(r.value);
    expect(textOf([...head, ...rest])).toBe('alpha beta gamma delta');
    expect(textOf(joined)).toBe('alpha beta gamma delta');
    expect(joined.filter((e) => e.type === 'stream-start')).toHaveLength(1);
    expect(provider.calls).toHaveLength(1);
    expect(provider.calls[0]?.options.headers).toEqual({ 'Idempotency-Key': 's' });
    expect((await joiner.response).text).toBe('alpha beta gamma delta');
    const late = await engine.complete(userMessage('x'), { idempotencyKey: 's' });
    expect([late.text, late.source]).toEqual(['alpha beta gamma delta', 'idempotency-hit']);
    expect(textOf(await collect(engine.stream(userMessage('x'), { idempotencyKey: 's' })))).toBe('alpha beta gamma delta');
  });

  it('a fresh key may still be answered from the response cache', async () => {
    const provider = new FakeModel({ steps: ['a', 'b'] });
    const engine = new ExecutionEngine({ provider, cache: true, _internal: fakeInternals().internals });
    await engine.complete(userMessage('x'));
    const keyed = await engine.complete(userMessage('x'), { idempotencyKey: 'new' });
    expect([keyed.text, keyed.source]).toEqual(['a', 'cache']);
    expect((await engine.complete(userMessage('x'), { idempotencyKey: 'new' })).source).toBe('idempotency-hit');
  });
});
