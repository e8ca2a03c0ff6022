import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticate } from '../auth/principal.js';
import { handshakeStatus, openWs, type WsMessage } from '../test-helpers/ws-client.js';
import { startTestServer, type TestServer } from '../test-helpers/test-server.js';

// A browser WebSocket cannot set headers: the test credential is `?scope=` (headers also work).
const queryAuth: Authenticate = (request) => {
  const scopeId = new URL(request.url).searchParams.get('scope') ?? request.headers.get('x-baton-scope');
  return scopeId ? { scopeId, principalId: 'alice' } : undefined;
};

let t: TestServer;
let wsUrl: string;

beforeAll(async () => {
  t = await startTestServer({
    kernel: { tokenDelayMs: 8, words: 40 },
    authenticate: queryAuth,
    ws: { heartbeatIntervalMs: 60, resumeWaitMs: 30 },
    limits: { maxStreamsPerScope: 3 },
  });
  wsUrl = t.url.replace(/^http/, 'ws');
});
afterAll(() => t.close());

const sessionUrl = (session: string, query = 'scope=tenant-a') => `${wsUrl}/ws/sessions/${session}?${query}`;
const isEnd = (jobId: string) => (m: WsMessage) => m.event === 'job.completed' && m.data?.jobId === jobId;

async function chat(session: string, message: string, scope = 'tenant-a'): Promise<string> {
  const r = await t.call('POST', `/sessions/${session}/messages`, { scope, body: { message } });
  expect(r.status).toBe(201);
  return r.json.job.id as string;
}

describe('/ws/sessions/:id', () => {
  it("carries a job's events in order, with the session stream's ids, until the job ends", async () => {
    const session = `ws-order-${Date.now()}`;
    const conn = await openWs(sessionUrl(session));
    conn.send({ type: 'resume' });
    const jobId = await chat(session, 'tell me a story');
    const events = await conn.until(isEnd(jobId));
    expect(events[0]!.event).toBe('job.created');
    expect(events.map((m) => m.data!.seq)).toEqual(events.map((_, i) => i + 1));
    for (const m of events) {
      expect(m.id).toBe(`${jobId}:${m.data!.seq}`);
      expect(m.data).toMatchObject({ type: m.event, jobId });
    }
    expect(events.filter((m) => m.event === 'model.delta').length).toBeGreaterThanOrEqual(40);
    conn.close();
    expect((await conn.closed).code).toBe(1000);
    const job = await (await t.server.kernel.handle(jobId, 'tenant-a'))!.settled();
    expect(job.status).toBe('completed');
  });

  it.each(['query', 'message'] as const)('resumes after a mid-job disconnect from the last id (%s): every event exactly once, and the job goes on', async (how) => {
    const session = `ws-resume-${how}-${Date.now()}`;
    const first = await openWs(sessionUrl(session));
    const jobId = await chat(session, 'a long story');
    const before = await first.until((m) => (m.data?.seq ?? 0) >= 12);
    first.close();
    await first.closed;
    const lastId = before.at(-1)!.id!;
    expect(before.at(-1)!.event).not.toBe('job.completed');
    await expect.poll(() => t.server.openStreams('tenant-a')).toBe(0);

    const second = await openWs(how === 'query' ? sessionUrl(session, `scope=tenant-a&lastEventId=${encodeURIComponent(lastId)}`) : sessionUrl(session));
    if (how === 'message') second.send({ type: 'resume', lastEventId: lastId });
    const after = await second.until(isEnd(jobId));
    second.close();
    const seqs = [...before, ...after].map((m) => m.data!.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(after.at(-1)!.event).toBe('job.completed');
    expect(new Set([...before, ...after].map((m) => m.id)).size).toBe(seqs.length);
  });

  it('another scope is refused: a cursor of another scope gets a 404 (or a 4404 close) and a same-named session shows nothing of it', async () => {
    const session = `ws-scope-${Date.now()}`;
    const conn = await openWs(sessionUrl(session));
    const jobId = await chat(session, 'private story');
    const mine = await conn.until(isEnd(jobId));
    conn.close();
    const cursor = encodeURIComponent(mine.at(-1)!.id!);

    const refused = await handshakeStatus(sessionUrl(session, `scope=tenant-b&lastEventId=${cursor}`));
    expect(refused.status).toBe(404);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'job_not_found' } });
    expect((await handshakeStatus(sessionUrl(session, `scope=tenant-a&lastEventId=${cursor}`))).status).toBe(101);
    expect((await handshakeStatus(sessionUrl(session, ''))).status).toBe(401);
    expect((await handshakeStatus(sessionUrl(session, 'scope=tenant-a&lastEventId=yesterday'))).status).toBe(400);
    expect((await t.call('GET', `/ws/sessions/${session}`)).status).toBe(426);

    const other = await openWs(sessionUrl(session, 'scope=tenant-b'));
    other.send({ type: 'resume', lastEventId: mine.at(-1)!.id });
    expect(await other.closed).toMatchObject({ code: 4404 });
    expect(other.events).toEqual([]);

    const sameName = await openWs(sessionUrl(session, 'scope=tenant-b'));
    const theirs = await chat(session, 'their story', 'tenant-b');
    const events = await sameName.until(isEnd(theirs));
    sameName.close();
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((m) => m.data!.jobId === theirs)).toBe(true);
  });

  it('answers ping with pong, pings the client, and closes a connection that stops answering', async () => {
    const session = `ws-ping-${Date.now()}`;
    const live = await openWs(sessionUrl(session));
    live.send({ type: 'ping' });
    await expect.poll(() => live.controls.includes('pong')).toBe(true);
    await expect.poll(() => live.controls.filter((c) => c === 'ping').length, { timeout: 2_000 }).toBeGreaterThanOrEqual(4);
    expect(live.socket.readyState).toBe(WebSocket.OPEN);

    const dead = await openWs(sessionUrl(session), { answerPings: false });
    const opened = Date.now();
    const { code } = await dead.closed;
    expect(code).toBe(4408);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(2 * 60 - 10);
    expect(dead.controls.filter((c) => c === 'ping').length).toBe(2);
    expect(live.socket.readyState).toBe(WebSocket.OPEN);
    live.close();
    await live.closed;
  });

  it('counts toward the per-scope stream limit, and a client that leaves never cancels the job', async () => {
    const session = `ws-limit-${Date.now()}`;
    const conns = await Promise.all([1, 2, 3].map(() => openWs(sessionUrl(session))));
    expect(t.server.openStreams('tenant-a')).toBe(3);
    expect((await handshakeStatus(sessionUrl(session))).status).toBe(429);
    const jobId = await chat(session, 'keep going');
    await conns[0]!.until((m) => m.event === 'model.delta');
    for (const c of conns) c.close();
    await Promise.all(conns.map((c) => c.closed));
    await expect.poll(() => t.server.openStreams('tenant-a')).toBe(0);
    const job = await (await t.server.kernel.handle(jobId, 'tenant-a'))!.settled();
    expect(job.status).toBe('completed');
  });
});
