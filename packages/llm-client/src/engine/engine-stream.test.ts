import { describe, expect, it } from 'vitest';
import { AbortError, TimeoutError } from '../errors/engine-errors.js';
import { AuthenticationError, ProviderConnectionError, StreamInterruptedError } from '../errors/provider-errors.js';
import type { ModelStreamEvent } from '../types/model.js';
import { PriceTable } from '../types/pricing.js';
import { ExecutionEngine } from './execution-engine.js';
import { FakeModel, collect, fakeInternals, textOf, userMessage } from './fake-model.test.js';

const reset = () => new ProviderConnectionError({ message: 'ECONNRESET', provider: 'fake' });

describe('ExecutionEngine.stream', () => {
  it('passes the events through; finish and response carry the cost', async () => {
    const prices = new PriceTable({ 'fake:*': { inputPerMillion: '1', outputPerMillion: '1' } });
    const engine = new ExecutionEngine({ provider: new FakeModel({ steps: ['one two three'] }), prices });
    const finishes: unknown[] = [];
    engine.hooks.on('request.finish', (e) => void finishes.push([e.mode, e.source, e.attempts]));
    const stream = engine.stream(userMessage('x'));
    const events = await collect(stream);
    expect(events.map((e) => e.type)).toEqual(['stream-start', 'text-delta', 'text-delta', 'text-delta', 'finish']);
    expect(textOf(events)).toBe('one two three');
    const finish = events.at(-1) as Extract<ModelStreamEvent, { type: 'finish' }>;
    expect(finish.response.cost).toEqual({ nanoUsd: 15_000, usd: '0.000015000' });
    const response = await stream.response;
    expect(response).toBe(finish.response);
    expect(finishes).toEqual([['stream', 'provider', 1]]);
  });

  it('retries a stream cut before anything was delivered, without a second stream-start', async () => {
    const provider = new FakeModel({ steps: [{ error: reset(), text: 'lost', deliver: 1 }, { error: reset() }, 'hello world'] });
    const { internals, sleeps } = fakeInternals();
    const engine = new ExecutionEngine({ provider, _internal: internals });
    const events = await collect(engine.stream(userMessage('x')));
    expect(events.map((e) => e.type)).toEqual(['stream-start', 'text-delta', 'text-delta', 'finish']);
    expect(textOf(events)).toBe('hello world');
    expect(provider.calls).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('once output was delivered, surfaces StreamInterruptedError with the partial text instead of retrying', async () => {
    const provider = new FakeModel({ steps: [{ error: reset(), text: 'partial answer here', deliver: 3 }, 'never'] });
    const engine = new ExecutionEngine({ provider, _internal: fakeInternals().internals });
    const stream = engine.stream(userMessage('x'));
    const seen: ModelStreamEvent[] = [];
    const error = await (async () => {
      for await (const e of stream) seen.push(e);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).partialText).toBe('partial answer ');
    expect(textOf(seen)).toBe('partial answer ');
    expect(provider.calls).toHaveLength(1);
    await expect(stream.response).rejects.toBe(error);
  });

  it('a stream that ends without finish counts as cut (and is retried when nothing was delivered)', async () => {
    const truncated = { [Symbol.asyncIterator]: async function* () {} };
    let calls = 0;
    const provider = new FakeModel({ steps: ['fine'] });
    const original = provider.stream.bind(provider);
    provider.stream = ((req, opts) => (++calls === 1 ? truncated : original(req, opts))) as typeof provider.stream;
    const engine = new ExecutionEngine({ provider, _internal: fakeInternals().internals });
    expect(textOf(await collect(engine.stream(userMessage('x'))))).toBe('fine');
    expect(calls).toBe(2);
  });

  it('does not retry a non-retryable error', async () => {
    const auth = new AuthenticationError({ message: 'no key', provider: 'fake', status: 401 });
    const provider = new FakeModel({ steps: [{ error: auth }] });
    const engine = new ExecutionEngine({ provider, _internal: fakeInternals().internals });
    await expect(collect(engine.stream(userMessage('x')))).rejects.toBe(auth);
    expect(provider.calls).toHaveLength(1);
  });

  it("the caller's abort mid-stream aborts the provider request and ends with AbortError", async () => {
    const provider = new FakeModel({ steps: [{ hang: true }] });
    const engine = new ExecutionEngine({ provider });
    const controller = new AbortController();
    const stream = engine.stream(userMessage('x'), { signal: controller.signal });
    const it = stream[Symbol.asyncIterator]();
    const first = it.next();
    setTimeout(() => controller.abort(), 5);
    await expect(first).rejects.toBeInstanceOf(AbortError);
    expect(provider.calls[0]?.options.signal?.aborted).toBe(true);
    expect(provider.calls).toHaveLength(1);
  });

  it('a per-attempt timeout applies to the whole stream', async () => {
    const provider = new FakeModel({ steps: [{ hang: true }] });
    const engine = new ExecutionEngine({ provider, retry: false });
    await expect(collect(engine.stream(userMessage('x'), { timeoutMs: 20 }))).rejects.toBeInstanceOf(TimeoutError);
  });

  it('a consumer that stops early cancels the request; response rejects with AbortError', async () => {
    const provider = new FakeModel({ steps: ['a b c d e f'] });
    const engine = new ExecutionEngine({ provider });
    const stream = engine.stream(userMessage('x'));
    for await (const e of stream) if (e.type === 'text-delta') break;
    expect(provider.calls[0]?.options.signal?.aborted).toBe(true);
    await expect(stream.response).rejects.toBeInstanceOf(AbortError);
  });

  it('breaking right after finish keeps the response', async () => {
    const engine = new ExecutionEngine({ provider: new FakeModel({ steps: ['done'] }) });
    const stream = engine.stream(userMessage('x'));
    for await (const e of stream) if (e.type === 'finish') break;
    await expect(stream.response).resolves.toMatchObject({ text: 'done' });
  });

  it('streams a cached answer on a cache hit', async () => {
    const provider = new FakeModel({ steps: ['cached words', 'fresh'] });
    const engine = new ExecutionEngine({ provider, cache: true });
    const sources: string[] = [];
    engine.hooks.on('request.finish', (e) => void sources.push(e.source));
    expect(textOf(await collect(engine.stream(userMessage('x'))))).toBe('cached words');
    const again = await collect(engine.stream(userMessage('x')));
    expect(textOf(again)).toBe('cached words');
    expect(again.map((e) => e.type)).toEqual(['stream-start', 'text-delta', 'finish']);
    expect((await engine.complete(userMessage('x'))).source).toBe('cache');
    expect(provider.calls).toHaveLength(1);
    expect(sources).toEqual(['provider', 'cache', 'cache']);
  });
});
