import { InMemoryEventBus } from '@baton/agent-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSessionCursor } from './session-cursor.js';
import { collect, openSse, TERMINAL, type SseMessage } from '../test-helpers/sse-reader.js';
import { scopeHeaders, startTestServer, type TestServer } from '../test-helpers/test-server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ kernel: { tokenDelayMs: 8, words: 40 }, sse: { heartbeatIntervalMs: 40 }, limits: { maxStreamsPerScope: 3 } });
});
afterAll(() => t.close());

const seqs = (messages: SseMessage[]) => messages.filter((m) => m.id !== undefined).map((m) => Number(m.id));
const parse = (m: SseMessage) => JSON.parse(m.data) as { seq: number; type: string; jobId: string; data: Record<string, unknown>; resumeToken?: string };

async function startJob(input = 'tell me a story', scope = 'tenant-a'): Promise<string> {
  const r = await t.call('POST', '/jobs', { scope, body: { input } });
  expect(r.status).toBe(201);
  return r.json.job.id as string;
}

describe('GET /jobs/:id/events', () => {
  it('resumes after a disconnect from Last-Event-ID: every event once, in order, to the terminal one', async () => {
    const jobId = await startJob();
    const first = await openSse(`${t.url}/jobs/${jobId}/events`, { headers: scopeHeaders() });
    expect(first.status).toBe(200);
    const before = await collect(first, (_m, all) => all.length === 12);
    first.abort();
    const lastId = before[before.length - 1]!.id!;
    expect(TERMINAL.has(before[before.length - 1]!.event)).toBe(false);

    const second = await openSse(`${t.url}/jobs/${jobId}/events`, { headers: scopeHeaders(), lastEventId: lastId });
    const after = await collect(second);
    const all = [...before, ...after];
    const ids = seqs(all);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    expect(all[all.length - 1]!.event).toBe('job.completed');
    expect(all.filter((m) => m.event === 'model.delta').length).toBeGreaterThanOrEqual(40);
    for (const m of all) expect(parse(m)).toMatchObject({ seq: Number(m.id), type: m.event, jobId });
    // The stream ended itself after the terminal event; a reconnection is told there is no more.
    const third = await openSse(`${t.url}/jobs/${jobId}/events`, { headers: scopeHeaders(), lastEventId: String(ids[ids.length - 1]) });
    expect(third.status).toBe(204);
  });

  it('a client that disconnects does not cancel the job', async () => {
    const jobId = await startJob('another story');
    const conn = await openSse(`${t.url}/jobs/${jobId}/events`, { headers: scopeHeaders() });
    await collect(conn, (m) => m.event === 'model.delta');
    conn.abort();
    const job = await (await t.server.kernel.handle(jobId, 'tenant-a'))!.settled();
    expect(job.status).toBe('completed');
    await expect.poll(() => t.server.openStreams('tenant-a')).toBe(0);
  });

  it('sends heartbeat comments while nothing happens, and action.required with the resume token', async () => {
    const jobId = await startJob('please deploy');
    const conn = await openSse(`${t.url}/jobs/${jobId}/events`, { headers: scopeHeaders() });
    const upToAction = await collect(conn, (m) => m.event === 'job.waiting');
    const required = upToAction.find((m) => m.event === 'action.required')!;
    const token = parse(required).resumeToken;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    const reading = collect(conn);
    await expect.poll(() => conn.comments.filter((c) => c.includes('heartbeat')).length, { timeout: 2_000 }).toBeGreaterThanOrEqual(2);
    const resolved = await t.call('POST', '/actions/resolve', { body: { resumeToken: token, resolution: { approved: true } } });
    expect(resolved.status).toBe(200);
    const rest = await reading;
    expect(rest[rest.length - 1]!.event).toBe('job.completed');
    expect(seqs([...upToAction, ...rest])).toEqual(Array.from({ length: upToAction.length + rest.length }, (_, i) => i + 1));
  });

  it('replays an ended job in full, takes ?lastEventId=, and refuses a malformed id', async () => {
    const jobId = await startJob('short');
    await (await t.server.kernel.handle(jobId, 'tenant-a'))!.settled();
    const full = await collect(await openSse(`${t.url}/jobs/${jobId}/events`, { headers: scopeHeaders() }));
    expect(full[0]!.event).toBe('job.created');
    expect(full[full.length - 1]!.event).toBe('job.completed');
    const tail = await collect(await openSse(`${t.url}/jobs/${jobId}/events?lastEventId=${full.length - 2}`, { headers: scopeHeaders() }));
    expect(seqs(tail)).toEqual([full.length - 1, full.length]);
    const bad = await t.call('GET', `/jobs/${jobId}/events`, { headers: { 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'invalid_last_event_id', field: 'Last-Event-ID' });
  });

  it('limits open streams per scope (429), other scopes unaffected', async () => {
    const jobId = await startJob('please deploy');
    const open = await Promise.all([1, 2, 3].map(() => openSse(`${t.url}/jobs/${jobId}/events`, { headers: scopeHeaders() })));
    expect(open.map((c) => c.status)).toEqual([200, 200, 200]);
    const refused = await t.call('GET', `/jobs/${jobId}/events`);
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ code: 'too_many_streams', retryable: true });
    const otherJob = await startJob('hello', 'tenant-c');
    const other = await openSse(`${t.url}/jobs/${otherJob}/events`, { headers: scopeHeaders('tenant-c') });
    expect(other.status).toBe(200);
    other.abort();
    open[0]!.abort();
    await expect.poll(() => t.server.openStreams('tenant-a')).toBe(2);
    const again = await openSse(`${t.url}/jobs/${jobId}/events`, { headers: scopeHeaders() });
    expect(again.status).toBe(200);
    for (const c of [again, ...open]) c.abort();
    await t.server.kernel.cancel(jobId, 'tenant-a');
  });
});

describe('history the bus no longer holds', () => {
  it('is reported as a stream.gap message before the retained events', async () => {
    const local = await startTestServer({ kernel: { words: 20, stores: { events: new InMemoryEventBus({ maxEventsPerJob: 5 }) } } });
    try {
      const r = await local.call('POST', '/jobs', { body: { input: 'many events' } });
      const job = await (await local.server.kernel.handle(r.json.job.id, 'tenant-a'))!.settled();
      const messages = await collect(await openSse(`${local.url}/jobs/${job.id}/events`, { headers: scopeHeaders(), lastEventId: '1' }));
      expect(messages[0]!.event).toBe('stream.gap');
      expect(messages[0]!.id).toBeUndefined();
      const gap = JSON.parse(messages[0]!.data) as { dropped: number; first: { seq: number }; last: { seq: number } };
      const retained = seqs(messages);
      expect(retained).toHaveLength(5);
      expect(gap).toMatchObject({ first: { seq: 2 }, last: { seq: retained[0]! - 1 }, dropped: retained[0]! - 2 });
      expect(messages.at(-1)!.event).toBe('job.completed');
    } finally {
      await local.close();
    }
  });
});

describe('on a fetch-only host (no Node response to write to)', () => {
  it('streams the same frames as a ReadableStream body, and a cancelled body frees the stream, not the job', async () => {
    const jobId = await startJob('streamed through fetch');
    const response = await t.server.fetch(new Request(`http://host/jobs/${jobId}/events`, { headers: scopeHeaders() }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: job.completed')) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    expect((await reader.read()).done).toBe(true);

    const other = await startJob('cancel me not');
    const live = await t.server.fetch(new Request(`http://host/jobs/${other}/events`, { headers: scopeHeaders() }));
    const liveReader = live.body!.getReader();
    await liveReader.read();
    expect(t.server.openStreams('tenant-a')).toBeGreaterThanOrEqual(1);
    await liveReader.cancel();
    await expect.poll(() => t.server.openStreams('tenant-a')).toBe(0);
    expect((await (await t.server.kernel.handle(other, 'tenant-a'))!.settled()).status).toBe('completed');
  });
});

describe('GET /sessions/:id/events', () => {
  it('follows a session across jobs and resumes from a `<jobId>:<seq>` cursor with no gap and no duplicate', async () => {
    const session = `chat-${Date.now()}`;
    const conn = await openSse(`${t.url}/sessions/${session}/events`, { headers: scopeHeaders() });
    expect(conn.status).toBe(200);
    const a = await t.call('POST', `/sessions/${session}/messages`, { body: { message: 'first question' } });
    const jobA = a.json.job.id as string;
    const beforeB = await collect(conn, (m) => m.event === 'model.delta' && parse(m).seq >= 8);
    const b = await t.call('POST', `/sessions/${session}/messages`, { body: { message: 'second question', strategy: 'enqueue' } });
    const jobB = b.json.job.id as string;
    const untilB = await collect(conn, (m) => m.event === 'job.created' && parse(m).jobId === jobB);
    conn.abort();
    const before = [...beforeB, ...untilB];
    const lastId = before[before.length - 1]!.id!;
    // While both jobs are followed, the id names both.
    expect(lastId).toBe(`${jobB}:1,${jobA}:${parse(before.filter((m) => parse(m).jobId === jobA).at(-1)!).seq}`);

    const resumed = await openSse(`${t.url}/sessions/${session}/events`, { headers: scopeHeaders(), lastEventId: lastId });
    const after = await collect(resumed, (m) => m.event === 'job.completed' && parse(m).jobId === jobB);
    resumed.abort();
    const all = [...before, ...after].map(parse);
    for (const jobId of [jobA, jobB]) {
      const mine = all.filter((e) => e.jobId === jobId).map((e) => e.seq);
      expect(mine).toEqual(Array.from({ length: mine.length }, (_, i) => i + 1));
      expect(all.filter((e) => e.jobId === jobId).at(-1)!.type).toBe('job.completed');
    }
    // Once A has ended and B is newer, the id names B only.
    expect(after.at(-1)!.id).toBe(`${jobB}:${all.filter((e) => e.jobId === jobB).length}`);

    // Resuming from the id of A's terminal event (which also names B:1, already sent by then)
    // replays the rest of B and nothing of A.
    const aEnd = [...before, ...after].find((m) => m.event === 'job.completed' && parse(m).jobId === jobA)!;
    const named = parseSessionCursor(aEnd.id!)!;
    expect(named.map((e) => e.jobId)).toEqual([jobA, jobB]);
    const fromAEnd = await openSse(`${t.url}/sessions/${session}/events`, { headers: scopeHeaders(), lastEventId: aEnd.id! });
    const replay = (await collect(fromAEnd, (m) => m.event === 'job.completed' && parse(m).jobId === jobB)).map(parse);
    fromAEnd.abort();
    expect(replay.filter((e) => e.jobId === jobA)).toEqual([]);
    const bFrom = named.find((e) => e.jobId === jobB)!.seq;
    expect(replay.map((e) => e.seq)).toEqual(all.filter((e) => e.jobId === jobB && e.seq > bFrom).map((e) => e.seq));
  });

  it("carries the resume token of a session job's action to its scope", async () => {
    const session = `chat-deploy-${Date.now()}`;
    const conn = await openSse(`${t.url}/sessions/${session}/events`, { headers: scopeHeaders() });
    await t.call('POST', `/sessions/${session}/messages`, { body: { message: 'please deploy' } });
    const events = await collect(conn, (m) => m.event === 'action.required');
    conn.abort();
    const required = parse(events.at(-1)!);
    expect(required.resumeToken).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    await t.server.kernel.cancel(required.jobId, 'tenant-a');
  });

  it('a new session stream starts with the active job from its first event; other sessions and scopes stay out', async () => {
    const session = `chat-new-${Date.now()}`;
    const a = await t.call('POST', `/sessions/${session}/messages`, { body: { message: 'hello' } });
    await t.call('POST', '/sessions/other/messages', { body: { message: 'noise' } });
    await t.call('POST', `/sessions/${session}/messages`, { scope: 'tenant-z', body: { message: 'noise' } });
    const conn = await openSse(`${t.url}/sessions/${session}/events`, { headers: scopeHeaders() });
    const events = (await collect(conn, (m) => m.event === 'job.completed')).map(parse);
    conn.abort();
    expect(events.every((e) => e.jobId === a.json.job.id)).toBe(true);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    const bad = await t.call('GET', `/sessions/${session}/events`, { headers: { 'last-event-id': 'job_1:x' } });
    expect(bad.status).toBe(400);
  });

  it('close() ends the open streams; their jobs go on', async () => {
    const local = await startTestServer({ kernel: { tokenDelayMs: 5, words: 30 } });
    try {
      const r = await local.call('POST', '/jobs', { body: { input: 'go' } });
      const conn = await openSse(`${local.url}/jobs/${r.json.job.id}/events`, { headers: scopeHeaders() });
      await collect(conn, (m) => m.event === 'model.delta');
      local.server.close();
      const rest = await collect(conn);
      expect(rest.every((m) => !TERMINAL.has(m.event))).toBe(true);
      expect(local.server.openStreams()).toBe(0);
      const job = await (await local.server.kernel.handle(r.json.job.id, 'tenant-a'))!.settled();
      expect(job.status).toBe('completed');
    } finally {
      await local.close();
    }
  });
});
