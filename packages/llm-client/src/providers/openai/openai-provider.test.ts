import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  AuthenticationError,
  InvalidArgumentError,
  InvalidRequestError,
  ProviderConnectionError,
  ProviderOverloadedError,
  ProviderServerError,
  RateLimitError,
  StreamInterruptedError,
  TimeoutError,
} from '../../errors/index.js';
import type { ModelRequest, ModelStreamEvent } from '../../types/model.js';
import { startWireServer, type WireServer } from '../../testing/wire-server.js';
import { createOpenAI, OpenAIProvider } from './openai-provider.js';

const KEY = 'sk-test-0123456789abcdef';
let server: WireServer;
let model: OpenAIProvider;

beforeAll(async () => {
  server = await startWireServer();
  model = createOpenAI({ apiKey: KEY, baseURL: server.openaiBaseURL, model: 'gpt-4o-mini', headers: { 'X-App': 'baton-tests' } });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

const ask = (content: string): ModelRequest => ({ messages: [{ role: 'user', content }] });

async function collect(stream: AsyncIterable<ModelStreamEvent>): Promise<ModelStreamEvent[]> {
  const out: ModelStreamEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

describe('OpenAIProvider over the wire (JSON)', () => {
  it('sends the mapped request and returns text, usage and ids', async () => {
    server.enqueue({ text: 'Paris.', usage: { inputTokens: 40, outputTokens: 3, cachedInputTokens: 32 } });
    const res = await model.complete(
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Weather and capital?' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' }] },
          { role: 'tool', toolCallId: 'call_1', toolName: 'weather', content: 'sunny' },
        ],
        tools: [{ name: 'weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
        toolChoice: { type: 'tool', name: 'weather' },
        maxTokens: 100,
        temperature: 0.2,
        stop: ['END'],
        responseFormat: { type: 'json', schema: { type: 'object' }, name: 'answer' },
        providerOptions: { openai: { seed: 7, user: 'u-1' }, anthropic: { ignored: true } },
      },
      { headers: { 'Idempotency-Key': 'idem-123' } },
    );
    expect(res).toEqual({
      text: 'Paris.',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 40, outputTokens: 3, cachedInputTokens: 32, totalTokens: 43 },
      provider: 'openai',
      model: 'gpt-4o-mini',
      responseId: 'chatcmpl-wire-0',
    });
    const [req] = server.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/chat/completions', format: 'openai', stream: false });
    expect(req?.headers['idempotency-key']).toBe('idem-123');
    expect(req?.headers['x-app']).toBe('baton-tests');
    expect(req?.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(req?.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather and capital?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      tools: [{ type: 'function', function: { name: 'weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      max_tokens: 100,
      temperature: 0.2,
      stop: ['END'],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
      seed: 7,
      user: 'u-1',
    });
  });

  it('returns parallel tool calls', async () => {
    server.enqueue({ toolCalls: [{ id: 'call_a', name: 'weather', arguments: { city: 'Paris' } }, { id: 'call_b', name: 'time', arguments: { tz: 'CET' } }] });
    const res = await model.complete({ ...ask('both'), toolChoice: 'required' });
    expect(res.finishReason).toBe('tool-calls');
    expect(res.text).toBe('');
    expect(res.toolCalls).toEqual([
      { id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}' },
      { id: 'call_b', name: 'time', arguments: '{"tz":"CET"}' },
    ]);
    expect(server.requests[0]?.body.tool_choice).toBe('required');
  });

  it.each([
    ['length', 'length'],
    ['content_filter', 'content-filter'],
    ['stop', 'stop'],
    ['something_new', 'other'],
  ] as const)('maps finish_reason %s to %s', async (wire, ours) => {
    server.enqueue({ text: 'x', stopReason: wire });
    expect((await model.complete(ask('x'))).finishReason).toBe(ours);
  });

  it('asks for max_completion_tokens on reasoning models and json_object without a schema', async () => {
    server.enqueue({ text: '{}' });
    await model.complete({ ...ask('x'), model: 'o3-mini', maxTokens: 50, responseFormat: { type: 'json' } });
    expect(server.requests[0]?.body).toMatchObject({ model: 'o3-mini', max_completion_tokens: 50, response_format: { type: 'json_object' } });
    expect(server.requests[0]?.body.max_tokens).toBeUndefined();
  });
});

describe('OpenAIProvider over the wire (SSE)', () => {
  it('streams text deltas that concatenate to the text, then finish with usage', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    server.enqueue({ text, usage: { inputTokens: 12, outputTokens: 10, cachedInputTokens: 8 } });
    const events = await collect(model.stream(ask('fox'), { headers: { 'Idempotency-Key': 'idem-s' } }));
    expect(events[0]).toEqual({ type: 'stream-start', provider: 'openai', model: 'gpt-4o-mini', responseId: 'chatcmpl-wire-0' });
    const deltas = events.flatMap((e) => (e.type === 'text-delta' ? [e.delta] : []));
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join('')).toBe(text);
    expect(events.at(-1)).toEqual({
      type: 'finish',
      response: {
        text,
        toolCalls: [],
        finishReason: 'stop',
        usage: { inputTokens: 12, outputTokens: 10, cachedInputTokens: 8, totalTokens: 22 },
        provider: 'openai',
        model: 'gpt-4o-mini',
        responseId: 'chatcmpl-wire-0',
      },
    });
    expect(server.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(server.requests[0]?.headers['idempotency-key']).toBe('idem-s');
  });

  it('reassembles parallel tool-call argument fragments by index', async () => {
    const weather = { city: 'Paris', days: [1, 2, 3], unit: 'celsius' };
    const time = { tz: 'Europe/Paris' };
    server.enqueue({ text: 'Let me check.', toolCalls: [{ name: 'weather', arguments: weather }, { name: 'time', arguments: time }], argumentsChunkSize: 4 });
    const events = await collect(model.stream(ask('both')));
    const starts = events.filter((e) => e.type === 'tool-call-start');
    expect(starts).toEqual([
      { type: 'tool-call-start', toolCallId: 'call_wire_0_0', toolName: 'weather', index: 0 },
      { type: 'tool-call-start', toolCallId: 'call_wire_0_1', toolName: 'time', index: 1 },
    ]);
    const args = (i: number) => events.flatMap((e) => (e.type === 'tool-call-delta' && e.index === i ? [e.argumentsDelta] : []));
    expect(args(0).length).toBeGreaterThan(3);
    expect(JSON.parse(args(0).join(''))).toEqual(weather);
    expect(JSON.parse(args(1).join(''))).toEqual(time);
    const calls = events.flatMap((e) => (e.type === 'tool-call' ? [e.toolCall] : []));
    expect(calls).toEqual([
      { id: 'call_wire_0_0', name: 'weather', arguments: JSON.stringify(weather) },
      { id: 'call_wire_0_1', name: 'time', arguments: JSON.stringify(time) },
    ]);
    const finish = events.at(-1);
    expect(finish?.type === 'finish' && finish.response).toMatchObject({ text: 'Let me check.', finishReason: 'tool-calls', toolCalls: calls });
  });

  it('maps a stream cut off mid-way to a retryable StreamInterruptedError with the partial text', async () => {
    server.enqueue({ text: 'one two three four five six', cutAfterChunks: 4 });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const e of model.stream(ask('cut'))) if (e.type === 'text-delta') seen.push(e.delta);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    const interrupted = error as StreamInterruptedError;
    expect(interrupted.retryable).toBe(true);
    expect(interrupted.partialText).toBe('one two three');
    expect(seen.join('')).toBe('one two three');
    expect(interrupted).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', code: 'stream_interrupted' });
    expect(server.requests).toHaveLength(1);
  });

  it('keeps partial tool calls when the cut comes inside their arguments', async () => {
    server.enqueue({ toolCalls: [{ id: 'c1', name: 'search', arguments: { query: 'a long query string' } }], argumentsChunkSize: 5, cutAfterChunks: 4 });
    const error = await collect(model.stream(ask('x'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).partialToolCalls).toEqual([{ id: 'c1', name: 'search', arguments: '{"query":"' }]);
  });

  it('maps an error event inside the stream', async () => {
    server.enqueue({ text: 'a b c', streamError: { afterChunks: 2, type: 'server_error', message: 'boom' } });
    await expect(collect(model.stream(ask('x')))).rejects.toBeInstanceOf(ProviderServerError);
  });

  it('aborts mid-stream within a few ms, and the server sees the connection closed', async () => {
    server.enqueue({ text: 'alpha beta gamma delta epsilon', hangAfterChunks: 3 });
    const controller = new AbortController();
    const seen: string[] = [];
    let abortedAt = 0;
    const error = await (async () => {
      for await (const e of model.stream(ask('x'), { signal: controller.signal })) {
        if (e.type === 'text-delta') seen.push(e.delta);
        if (seen.length === 2) {
          setTimeout(() => {
            abortedAt = performance.now();
            controller.abort();
          }, 5);
        }
      }
    })().catch((e: unknown) => e);
    const latency = performance.now() - abortedAt;
    expect(error).toBeInstanceOf(AbortError);
    expect(seen).toEqual(['alpha', ' beta']);
    expect(latency).toBeLessThan(100);
    const req = server.requests[0]!;
    await req.settled;
    expect(req.closedEarly).toBe(true);
  });

  it('aborts a call waiting for its answer', async () => {
    server.enqueue({ type: 'hang' });
    const controller = new AbortController();
    void server.waitForRequests(1).then(() => controller.abort());
    await expect(model.complete(ask('x'), { signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
    await server.requests[0]!.settled;
    expect(server.requests[0]!.closedEarly).toBe(true);
  });
});

describe('OpenAIProvider errors', () => {
  it('maps 429 with retry-after seconds to RateLimitError, without SDK retries', async () => {
    server.enqueue({ type: 'error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '2', 'x-request-id': 'req_429' } });
    const error = await model.complete(ask('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 2000, requestId: 'req_429', provider: 'openai', model: 'gpt-4o-mini', retryable: true, code: 'rate_limited' });
    expect((error as Error).message).toContain('Rate limit reached');
    expect(server.requests).toHaveLength(1);
  });

  it('prefers retry-after-ms, and maps errors on a streaming request too', async () => {
    server.enqueue({ type: 'error', status: 429, headers: { 'retry-after-ms': '150', 'retry-after': '9' } });
    const error = await collect(model.stream(ask('x'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(150);
  });

  it.each([
    [500, ProviderServerError, true],
    [502, ProviderServerError, true],
    [503, ProviderOverloadedError, true],
    [529, ProviderOverloadedError, true],
    [400, InvalidRequestError, false],
    [404, InvalidRequestError, false],
    [422, InvalidRequestError, false],
  ] as const)('maps status %i to %o', async (status, type, retryable) => {
    server.enqueue({ type: 'error', status });
    const error = await model.complete(ask('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ status, retryable, requestId: 'req_wire_0' });
  });

  it('maps 401 to AuthenticationError and never puts the key in the message', async () => {
    server.enqueue({ type: 'error', status: 401, message: `Incorrect API key provided: ${KEY}` });
    const error = await model.complete(ask('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).not.toContain(KEY);
    expect(JSON.stringify(error)).not.toContain(KEY);
  });

  it('maps a client timeout to TimeoutError and a refused connection to ProviderConnectionError', async () => {
    server.enqueue({ type: 'hang' });
    const slow = createOpenAI({ client: new OpenAI({ apiKey: KEY, baseURL: server.openaiBaseURL, timeout: 30, maxRetries: 3 }) });
    const timeout = await slow.complete(ask('x')).catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(TimeoutError);
    expect(server.requests).toHaveLength(1);

    const closed = await startWireServer();
    const baseURL = closed.openaiBaseURL;
    await closed.close();
    const refused = await createOpenAI({ apiKey: KEY, baseURL }).complete(ask('x')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderConnectionError);
    expect((refused as ProviderConnectionError).retryable).toBe(true);
  });
});

describe('createOpenAI', () => {
  it('falls back to OPENAI_API_KEY and OPENAI_BASE_URL', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-from-env-000000');
    vi.stubEnv('OPENAI_BASE_URL', server.openaiBaseURL);
    try {
      const provider = createOpenAI();
      server.enqueue({ text: 'from env' });
      expect((await provider.complete(ask('x'))).text).toBe('from env');
      expect(server.requests[0]?.headers['authorization']).toBe('Bearer sk-from-env-000000');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('fails at once on a missing key or a bad option', () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    try {
      expect(() => createOpenAI()).toThrow(InvalidArgumentError);
      expect(() => createOpenAI()).toThrow(/OPENAI_API_KEY/);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(() => createOpenAI({ apiKey: KEY, baseURL: 'not a url' })).toThrow(InvalidArgumentError);
    expect(() => createOpenAI({ apiKey: KEY, model: '' })).toThrow(InvalidArgumentError);
  });
});
