import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  AuthenticationError,
  InvalidArgumentError,
  InvalidRequestError,
  ProviderOverloadedError,
  ProviderServerError,
  RateLimitError,
  StreamInterruptedError,
} from '../../errors/index.js';
import type { ModelRequest, ModelStreamEvent } from '../../types/model.js';
import { startWireServer, type WireServer } from '../../testing/wire-server.js';
import { AnthropicProvider, createAnthropic } from './anthropic-provider.js';

const KEY = 'sk-ant-test-0123456789';
let server: WireServer;
let model: AnthropicProvider;

beforeAll(async () => {
  server = await startWireServer();
  model = createAnthropic({ apiKey: KEY, baseURL: server.anthropicBaseURL, model: 'claude-sonnet-4-6', headers: { 'X-App': 'baton-tests' } });
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

describe('AnthropicProvider over the wire (JSON)', () => {
  it('maps system, tool_use, grouped tool_result blocks, tools and tool choice', async () => {
    server.enqueue({ text: 'Sunny in Paris, 9:00 there.', usage: { inputTokens: 100, outputTokens: 9, cachedInputTokens: 60 } });
    const res = await model.complete(
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'system', content: 'Use tools.' },
          { role: 'user', content: 'Weather and time in Paris?' },
          {
            role: 'assistant',
            content: 'Checking.',
            toolCalls: [
              { id: 'toolu_1', name: 'weather', arguments: '{"city":"Paris"}' },
              { id: 'toolu_2', name: 'time', arguments: '{"tz":"CET"}' },
            ],
          },
          { role: 'tool', toolCallId: 'toolu_1', toolName: 'weather', content: 'sunny' },
          { role: 'tool', toolCallId: 'toolu_2', toolName: 'time', content: 'unknown zone', isError: true },
          { role: 'user', content: 'And briefly.' },
        ],
        tools: [{ name: 'weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
        toolChoice: 'required',
        stop: ['END'],
        responseFormat: { type: 'json', schema: { type: 'object' } },
        providerOptions: { anthropic: { metadata: { user_id: 'u-1' } }, openai: { seed: 1 } },
      },
      { headers: { 'Idempotency-Key': 'idem-a' } },
    );
    expect(res).toEqual({
      text: 'Sunny in Paris, 9:00 there.',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 100, outputTokens: 9, cachedInputTokens: 60, totalTokens: 109 },
      provider: 'anthropic',
      model: 'claude-sonnet-4-6',
      responseId: 'msg_wire_0',
    });
    const [req] = server.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/messages', format: 'anthropic', stream: false });
    expect(req?.headers).toMatchObject({ 'idempotency-key': 'idem-a', authorization: `Bearer ${KEY}`, 'x-app': 'baton-tests' });
    expect(req?.headers['anthropic-version']).toBeTruthy();
    expect(req?.body).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 4096,
      system: 'Be brief.\n\nUse tools.',
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'time', input: { tz: 'CET' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'unknown zone', is_error: true },
            { type: 'text', text: 'And briefly.' },
          ],
        },
      ],
      tools: [{ name: 'weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'any' },
      stop_sequences: ['END'],
      output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
      metadata: { user_id: 'u-1' },
    });
  });

  it('returns parallel tool calls, and sends maxTokens and a named tool choice', async () => {
    server.enqueue({ toolCalls: [{ id: 'toolu_a', name: 'weather', arguments: { city: 'Paris' } }, { id: 'toolu_b', name: 'time', arguments: {} }] });
    const res = await model.complete({ ...ask('both'), maxTokens: 256, toolChoice: { type: 'tool', name: 'weather' } });
    expect(res.finishReason).toBe('tool-calls');
    expect(res.toolCalls).toEqual([
      { id: 'toolu_a', name: 'weather', arguments: '{"city":"Paris"}' },
      { id: 'toolu_b', name: 'time', arguments: '{}' },
    ]);
    expect(server.requests[0]?.body).toMatchObject({ max_tokens: 256, tool_choice: { type: 'tool', name: 'weather' } });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool-calls'],
    ['refusal', 'content-filter'],
    ['pause_turn', 'other'],
  ] as const)('maps stop_reason %s to %s', async (wire, ours) => {
    server.enqueue({ text: 'x', stopReason: wire });
    expect((await model.complete(ask('x'))).finishReason).toBe(ours);
  });
});

describe('AnthropicProvider over the wire (SSE)', () => {
  it('streams text deltas that concatenate to the text, then finish with usage (ping ignored)', async () => {
    const text = 'Pack my box with five dozen liquor jugs.';
    server.enqueue({ text, usage: { inputTokens: 30, outputTokens: 11, cachedInputTokens: 20 } });
    const events = await collect(model.stream(ask('x'), { headers: { 'Idempotency-Key': 'idem-s' } }));
    expect(events[0]).toEqual({ type: 'stream-start', provider: 'anthropic', model: 'claude-sonnet-4-6', responseId: 'msg_wire_0' });
    const deltas = events.flatMap((e) => (e.type === 'text-delta' ? [e.delta] : []));
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join('')).toBe(text);
    expect(events.at(-1)).toEqual({
      type: 'finish',
      response: {
        text,
        toolCalls: [],
        finishReason: 'stop',
        usage: { inputTokens: 30, outputTokens: 11, cachedInputTokens: 20, totalTokens: 41 },
        provider: 'anthropic',
        model: 'claude-sonnet-4-6',
        responseId: 'msg_wire_0',
      },
    });
    expect(server.requests[0]?.body.stream).toBe(true);
    expect(server.requests[0]?.headers['idempotency-key']).toBe('idem-s');
  });

  it('reassembles input_json_delta fragments of parallel tool calls', async () => {
    const search = { query: 'baton relay rules', limit: 5 };
    server.enqueue({ text: 'Searching.', toolCalls: [{ name: 'search', arguments: search }, { name: 'now', arguments: {} }], argumentsChunkSize: 3 });
    const events = await collect(model.stream(ask('x')));
    expect(events.filter((e) => e.type === 'tool-call-start')).toEqual([
      { type: 'tool-call-start', toolCallId: 'toolu_wire_0_0', toolName: 'search', index: 0 },
      { type: 'tool-call-start', toolCallId: 'toolu_wire_0_1', toolName: 'now', index: 1 },
    ]);
    const fragments = events.flatMap((e) => (e.type === 'tool-call-delta' && e.index === 0 ? [e.argumentsDelta] : []));
    expect(fragments.length).toBeGreaterThan(5);
    expect(JSON.parse(fragments.join(''))).toEqual(search);
    const calls = events.flatMap((e) => (e.type === 'tool-call' ? [e.toolCall] : []));
    expect(calls).toEqual([
      { id: 'toolu_wire_0_0', name: 'search', arguments: JSON.stringify(search) },
      { id: 'toolu_wire_0_1', name: 'now', arguments: '{}' },
    ]);
    const finish = events.at(-1);
    expect(finish?.type === 'finish' && finish.response).toMatchObject({ text: 'Searching.', finishReason: 'tool-calls', toolCalls: calls });
  });

  it('maps a stream cut off mid-way to a retryable StreamInterruptedError with the partial text', async () => {
    // message_start, content_block_start, ping, then three text deltas
    server.enqueue({ text: 'one two three four five six', cutAfterChunks: 6 });
    const error = await collect(model.stream(ask('x'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect(error).toMatchObject({ partialText: 'one two three', retryable: true, provider: 'anthropic', model: 'claude-sonnet-4-6' });
    expect(server.requests).toHaveLength(1);
  });

  it('maps an overloaded_error event inside the stream to ProviderOverloadedError', async () => {
    server.enqueue({ text: 'a b c', streamError: { afterChunks: 4, type: 'overloaded_error', message: 'Overloaded' } });
    const error = await collect(model.stream(ask('x'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderOverloadedError);
    expect((error as ProviderOverloadedError).retryable).toBe(true);
  });

  it('aborts mid-stream within a few ms, and the server sees the connection closed', async () => {
    server.enqueue({ text: 'alpha beta gamma delta', hangAfterChunks: 5 });
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
    expect(performance.now() - abortedAt).toBeLessThan(100);
    expect(error).toBeInstanceOf(AbortError);
    expect(seen).toEqual(['alpha', ' beta']);
    await server.requests[0]!.settled;
    expect(server.requests[0]!.closedEarly).toBe(true);
  });
});

describe('AnthropicProvider errors', () => {
  it('maps 529 overloaded to ProviderOverloadedError with the request id', async () => {
    server.enqueue({ type: 'error', status: 529, message: 'Overloaded', headers: { 'request-id': 'req_529' } });
    const error = await model.complete(ask('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderOverloadedError);
    expect(error).toMatchObject({ status: 529, requestId: 'req_529', retryable: true, provider: 'anthropic' });
    expect(server.requests).toHaveLength(1);
  });

  it('maps 429 with an HTTP-date retry-after to RateLimitError', async () => {
    const date = new Date(Date.now() + 3_000).toUTCString();
    server.enqueue({ type: 'error', status: 429, message: 'Number of request tokens has exceeded your rate limit', headers: { 'retry-after': date } });
    const error = await model.complete(ask('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const ms = (error as RateLimitError).retryAfterMs!;
    expect(ms).toBeGreaterThan(1_000);
    expect(ms).toBeLessThanOrEqual(3_000);
  });

  it.each([
    [500, ProviderServerError, true],
    [503, ProviderOverloadedError, true],
    [400, InvalidRequestError, false],
    [404, InvalidRequestError, false],
    [403, AuthenticationError, false],
  ] as const)('maps status %i to %o', async (status, type, retryable) => {
    server.enqueue({ type: 'error', status });
    const error = await collect(model.stream(ask('x'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ status, retryable, requestId: 'req_wire_0' });
  });

  it('maps 401 to AuthenticationError without the key in the message', async () => {
    server.enqueue({ type: 'error', status: 401, message: `invalid x-api-key ${KEY}` });
    const error = await model.complete(ask('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).not.toContain(KEY);
  });
});

describe('createAnthropic', () => {
  it('falls back to ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-from-env-0000');
    vi.stubEnv('ANTHROPIC_BASE_URL', server.anthropicBaseURL);
    try {
      const provider = createAnthropic({ defaultMaxTokens: 99 });
      server.enqueue({ text: 'from env' });
      expect((await provider.complete(ask('x'))).text).toBe('from env');
      expect(server.requests[0]?.headers['authorization']).toBe('Bearer sk-ant-from-env-0000');
      expect(server.requests[0]?.body.max_tokens).toBe(99);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('fails at once on a missing key or a bad option', () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    try {
      expect(() => createAnthropic()).toThrow(/ANTHROPIC_API_KEY/);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(() => createAnthropic({ apiKey: KEY, defaultMaxTokens: 0 })).toThrow(InvalidArgumentError);
    expect(() => createAnthropic({ apiKey: KEY, baseURL: 'ftp://x' })).toThrow(InvalidArgumentError);
  });
});
