/**
 * The engine through the official SDK clients (`openai`, `@anthropic-ai/sdk`) against a local
 * server speaking their wire formats: what reaches the server is what counts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AbortError, IdempotencyConflictError } from '../errors/engine-errors.js';
import { StreamInterruptedError } from '../errors/provider-errors.js';
import { AnthropicProvider } from '../providers/anthropic/index.js';
import { OpenAIProvider } from '../providers/openai/index.js';
import { startWireServer, type WireServer } from '../testing/index.js';
import { ExecutionEngine } from './execution-engine.js';
import { collect, fakeInternals, textOf, userMessage } from './fake-model.test.js';

let server: WireServer;
beforeAll(async () => {
  server = await startWireServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.setHandler(undefined);
});

const openai = () => new OpenAIProvider({ apiKey: 'test-key', baseURL: server.openaiBaseURL, model: 'gpt-4o-mini' });
const anthropic = () => new AnthropicProvider({ apiKey: 'test-key', baseURL: server.anthropicBaseURL, model: 'claude-haiku-4-5' });

describe('engine over the wire', () => {
  it('50 concurrent calls with one idempotency key reach the server once and all get the answer', async () => {
    server.setHandler(() => ({ text: 'Oslo is the capital.', delayMs: 50 }));
    const engine = new ExecutionEngine({ provider: openai() });
    const results = await Promise.all(Array.from({ length: 50 }, () => engine.complete(userMessage('capital of Norway?'), { idempotencyKey: 'order-7' })));
    expect(server.requests).toHaveLength(1);
    expect(results.every((r) => r.text === 'Oslo is the capital.')).toBe(true);
    expect(results.filter((r) => r.source === 'idempotency-join')).toHaveLength(49);
    // The key reaches the server as a header (neither SDK sends one by itself).
    expect(server.requests[0]?.headers['idempotency-key']).toBe('order-7');
    // Same key, different body: rejected without a request.
    await expect(engine.complete(userMessage('capital of Sweden?'), { idempotencyKey: 'order-7' })).rejects.toBeInstanceOf(IdempotencyConflictError);
    expect(server.requests).toHaveLength(1);
  });

  it('a 429 with retry-after is retried after the time the server asked for', async () => {
    server.enqueue({ type: 'error', status: 429, headers: { 'retry-after': '2' } }, { text: 'finally' });
    const { internals, sleeps } = fakeInternals(0.01);
    const engine = new ExecutionEngine({ provider: anthropic(), _internal: internals });
    const result = await engine.complete(userMessage('hi'));
    expect(result).toMatchObject({ text: 'finally', attempts: 2, provider: 'anthropic' });
    expect(sleeps).toEqual([2000]);
    expect(server.requests.map((r) => r.format)).toEqual(['anthropic', 'anthropic']);
  });

  it('a failing primary (500s) opens its breaker and the fallback in the other wire format answers', async () => {
    server.setHandler((req) => (req.format === 'openai' ? { type: 'error', status: 500 } : { text: 'answered by the fallback' }));
    const opened: string[] = [];
    const engine = new ExecutionEngine({
      provider: openai(),
      fallbacks: [anthropic()],
      retry: { maxRetries: 1 },
      breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
      _internal: fakeInternals().internals,
    });
    engine.hooks.on('breaker.open', (e) => void opened.push(`${e.provider}:${e.model}`));
    const first = await engine.complete(userMessage('hi'));
    expect(first).toMatchObject({ text: 'answered by the fallback', provider: 'anthropic', model: 'claude-haiku-4-5' });
    expect(opened).toEqual(['openai:gpt-4o-mini']);
    expect(engine.breakerState()).toBe('open');
    const second = await engine.complete(userMessage('hi again'));
    expect(second.provider).toBe('anthropic');
    expect(server.requests.map((r) => r.format)).toEqual(['openai', 'openai', 'anthropic', 'anthropic']);
  });

  it('a stream cut before any output is retried; a stream cut after output surfaces the partial text', async () => {
    const { internals } = fakeInternals();
    const engine = new ExecutionEngine({ provider: openai(), _internal: internals });
    server.enqueue({ text: 'never seen', cutAfterChunks: 1 }, { text: 'whole answer here' });
    const events = await collect(engine.stream(userMessage('x')));
    expect(textOf(events)).toBe('whole answer here');
    expect(events.filter((e) => e.type === 'stream-start')).toHaveLength(1);
    expect(server.requests).toHaveLength(2);

    server.enqueue({ text: 'one two three four five', textChunks: ['one ', 'two ', 'three ', 'four ', 'five'], cutAfterChunks: 3 });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const e of engine.stream(userMessage('y'))) if (e.type === 'text-delta') seen.push(e.delta);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).partialText).toBe(seen.join(''));
    expect(seen.length).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(3);
  });

  it('aborting mid-stream closes the HTTP request', async () => {
    // message_start, content_block_start, ping, two text deltas, then nothing until the client leaves.
    server.enqueue({ text: 'a b c d e f', hangAfterChunks: 5 });
    const engine = new ExecutionEngine({ provider: anthropic() });
    const controller = new AbortController();
    const stream = engine.stream(userMessage('x'), { signal: controller.signal });
    const failure = (async () => {
      for await (const e of stream) if (e.type === 'text-delta') controller.abort();
    })().catch((e: unknown) => e);
    expect(await failure).toBeInstanceOf(AbortError);
    await server.requests[0]?.settled;
    expect(server.requests[0]?.closedEarly).toBe(true);
  });

  it('aborting while the server is silent ends the stream with AbortError and closes the request', async () => {
    server.enqueue({ text: 'never arrives', hangAfterChunks: 2 });
    const engine = new ExecutionEngine({ provider: openai() });
    const controller = new AbortController();
    const stream = engine.stream(userMessage('x'), { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expect(collect(stream)).rejects.toBeInstanceOf(AbortError);
    await expect(stream.response).rejects.toBeInstanceOf(AbortError);
    await server.requests[0]?.settled;
    expect(server.requests[0]?.closedEarly).toBe(true);
  });

  it('concurrent streams with one key share one request and each gets the whole text', async () => {
    server.setHandler(() => ({ text: 'shared streamed answer', chunkDelayMs: 5 }));
    const engine = new ExecutionEngine({ provider: anthropic() });
    const streams = Array.from({ length: 5 }, () => engine.stream(userMessage('x'), { idempotencyKey: 'stream-1' }));
    const texts = await Promise.all(streams.map(async (s) => textOf(await collect(s))));
    expect(texts).toEqual(Array(5).fill('shared streamed answer'));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.headers['idempotency-key']).toBe('stream-1');
  });
});
