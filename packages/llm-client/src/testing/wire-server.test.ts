import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWireServer, type WireServer } from './wire-server.js';

let server: WireServer;
beforeAll(async () => {
  server = await startWireServer();
});
afterAll(() => server.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

function sseData(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => block.split('\n').find((l) => l.startsWith('data: '))!.slice(6))
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

describe('startWireServer', () => {
  it('records method, path, headers and the parsed body', async () => {
    server.enqueue({ text: 'hi' });
    const res = await post('/v1/chat/completions', { model: 'm', messages: [] }, { 'Idempotency-Key': 'k' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_wire_/);
    const rec = server.requests.at(-1)!;
    expect(rec).toMatchObject({ method: 'POST', path: '/v1/chat/completions', format: 'openai', body: { model: 'm', messages: [] }, stream: false });
    expect(rec.headers['idempotency-key']).toBe('k');
    await rec.settled;
    expect(rec.closedEarly).toBe(false);
  });

  it('writes OpenAI SSE: role chunk, content, tool-call fragments, finish, usage chunk, [DONE]', async () => {
    server.enqueue({ text: 'a b', toolCalls: [{ id: 'c', name: 'f', arguments: '{"x":1}' }], argumentsChunkSize: 3, usage: { inputTokens: 5, outputTokens: 2 } });
    const res = await post('/v1/chat/completions', { model: 'm', messages: [], stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const chunks = sseData(await res.text()) as Array<{ choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>; usage: unknown }>;
    expect(chunks.at(-1)).toBe('[DONE]');
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant' });
    expect(chunks.slice(1, 3).map((c) => c.choices[0]?.delta.content)).toEqual(['a', ' b']);
    expect(chunks[3]?.choices[0]?.delta).toEqual({ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '' } }] });
    expect(chunks.slice(4, 7).map((c) => (c.choices[0]?.delta.tool_calls as Array<{ function: { arguments: string } }>)[0]?.function.arguments).join('')).toBe('{"x":1}');
    expect(chunks[7]?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(chunks[8]).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } });
  });

  it('writes Anthropic SSE from message_start to message_stop, and error bodies', async () => {
    server.enqueue({ text: 'yo' }, { type: 'error', status: 529 });
    const res = await post('/v1/messages', { model: 'c', messages: [], stream: true });
    const text = await res.text();
    const names = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(names).toEqual(['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    const err = await post('/v1/messages', { model: 'c', messages: [] });
    expect(err.status).toBe(529);
    expect(err.headers.get('request-id')).toMatch(/^req_wire_/);
    expect(await err.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });

  it('uses the handler when the queue is empty, answers 500 without one, and 404 on unknown paths', async () => {
    server.setHandler((req) => ({ text: `echo ${req.body.messages.length}` }));
    const handled = await (await post('/v1/chat/completions', { model: 'm', messages: [1, 2] })).json();
    expect(handled.choices[0].message.content).toBe('echo 2');
    server.setHandler(undefined);
    const empty = await post('/v1/chat/completions', { model: 'm', messages: [] });
    expect(empty.status).toBe(500);
    expect((await empty.json()).error.message).toMatch(/no scripted response/);
    expect((await post('/v2/other', {})).status).toBe(404);
  });

  it('sees a client that goes away from a hanging request', async () => {
    server.enqueue({ type: 'hang' });
    const controller = new AbortController();
    const before = server.requests.length;
    const call = fetch(`${server.url}/v1/messages`, { method: 'POST', body: '{}', signal: controller.signal }).catch((e: unknown) => e);
    const requests = await server.waitForRequests(before + 1);
    controller.abort();
    expect(await call).toBeInstanceOf(Error);
    const hung = requests[before]!;
    await hung.settled;
    expect(hung.closedEarly).toBe(true);
  });
});
