import type { JsonObject } from '@baton/agent-runtime';
import { InvalidArgumentError } from '@baton/llm-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-helpers/test-server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ limits: { maxBodyBytes: 4_096 } });
});
afterAll(() => t.close());

async function settled(jobId: string, scope = 'tenant-a'): Promise<any> {
  const handle = await t.server.kernel.handle(jobId, scope);
  return handle!.settled();
}

describe('jobs', () => {
  it('POST /jobs runs a job in the caller scope; GET /jobs/:id reads it', async () => {
    const created = await t.call('POST', '/jobs', { body: { input: 'hello there' } });
    expect(created.status).toBe(201);
    expect(created.json.created).toBe(true);
    const job = created.json.job;
    expect(job).toMatchObject({ scopeId: 'tenant-a', principalId: 'alice', status: 'running' });
    expect(job).not.toHaveProperty('leaseEpoch');
    await settled(job.id);
    const read = await t.call('GET', `/jobs/${job.id}`);
    expect(read.status).toBe(200);
    expect(read.json.job).toMatchObject({ id: job.id, status: 'completed', result: { text: expect.stringMatching(/^w0 w1/) } });
  });

  it('an idempotency key returns the first job with 200', async () => {
    const first = await t.call('POST', '/jobs', { body: { input: 'once', idempotencyKey: 'k-1' } });
    const again = await t.call('POST', '/jobs', { body: { input: 'once', idempotencyKey: 'k-1' } });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ created: false, job: { id: first.json.job.id } });
  });

  it('GET /jobs lists the scope jobs by session and status, page by page', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await t.call('POST', '/jobs', { scope: 'tenant-list', body: { input: `m${i}`, sessionId: `s-${i}` } });
      ids.push(r.json.job.id);
      await settled(r.json.job.id, 'tenant-list');
    }
    const page1 = await t.call('GET', '/jobs?limit=2', { scope: 'tenant-list' });
    expect(page1.status).toBe(200);
    expect(page1.json.jobs.map((j: { id: string }) => j.id)).toEqual(ids.slice(0, 2));
    const page2 = await t.call('GET', `/jobs?limit=2&cursor=${encodeURIComponent(page1.json.nextCursor)}`, { scope: 'tenant-list' });
    expect(page2.json.jobs.map((j: { id: string }) => j.id)).toEqual(ids.slice(2));
    expect(page2.json.nextCursor).toBeUndefined();
    const bySession = await t.call('GET', '/jobs?sessionId=s-1', { scope: 'tenant-list' });
    expect(bySession.json.jobs.map((j: { id: string }) => j.id)).toEqual([ids[1]]);
    const byStatus = await t.call('GET', '/jobs?status=failed&status=cancelled', { scope: 'tenant-list' });
    expect(byStatus.json.jobs).toEqual([]);
    const completed = await t.call('GET', '/jobs?status=completed,failed&order=desc', { scope: 'tenant-list' });
    expect(completed.json.jobs.map((j: { id: string }) => j.id)).toEqual([...ids].reverse());
  });

  it('POST /jobs/:id/cancel cancels a running job', async () => {
    const slow = await startTestServer({ kernel: { tokenDelayMs: 50, words: 200 } });
    try {
      const created = await slow.call('POST', '/jobs', { body: { input: 'a long story' } });
      const cancelled = await slow.call('POST', `/jobs/${created.json.job.id}/cancel`, { body: { reason: 'user pressed stop' } });
      expect(cancelled.status).toBe(200);
      expect(cancelled.json.job.status).toBe('cancelled');
    } finally {
      await slow.close();
    }
  });
});

describe('beforeExecute', () => {
  it('lets the host adjust a request or refuse it with a typed error', async () => {
    const local = await startTestServer({
      beforeExecute: (request, { principal }) => {
        if (request.budgets !== undefined) throw new InvalidArgumentError('budgets', 'set by the server, not the client');
        return { ...request, metadata: { ...(request.metadata as JsonObject | undefined), approvedBy: `gateway:${principal.principalId}` } };
      },
    });
    try {
      const ok = await local.call('POST', '/sessions/s1/messages', { body: { message: 'hi', metadata: { ui: 'web' } } });
      expect(ok.status).toBe(201);
      expect(ok.json.job.metadata).toMatchObject({ ui: 'web', approvedBy: 'gateway:alice' });
      const refused = await local.call('POST', '/jobs', { body: { input: 'x', budgets: { maxTokens: 1_000_000 } } });
      expect(refused.status).toBe(400);
      expect(refused.json.error).toMatchObject({ code: 'invalid_argument', field: 'budgets' });
    } finally {
      await local.close();
    }
  });
});

describe('sessions and actions', () => {
  it('POST /sessions/:id/messages follows the session strategy', async () => {
    const slow = await startTestServer({ kernel: { tokenDelayMs: 20, words: 30 } });
    try {
      const first = await slow.call('POST', '/sessions/chat-1/messages', { body: { message: 'tell me about tides' } });
      expect(first.status).toBe(201);
      expect(first.json.job).toMatchObject({ sessionId: 'chat-1', input: 'tell me about tides' });
      const busy = await slow.call('POST', '/sessions/chat-1/messages', { body: { message: 'and waves?' } });
      expect(busy.status).toBe(409);
      expect(busy.json.error).toMatchObject({ code: 'session_busy', retryable: true });
      const second = await slow.call('POST', '/sessions/chat-1/messages', { body: { message: 'actually, waves', strategy: 'interrupt', history: [{ role: 'user', content: 'hi' }] } });
      expect(second.status).toBe(201);
      expect(second.json.job.metadata.previousContext).toMatchObject({ jobId: first.json.job.id });
      const firstNow = await slow.call('GET', `/jobs/${first.json.job.id}`);
      expect(firstNow.json.job.status).toBe('interrupted');
    } finally {
      await slow.close();
    }
  });

  it('GET /actions hands the resume token to the job scope; POST /actions/resolve resumes the job', async () => {
    const created = await t.call('POST', '/jobs', { body: { input: 'please deploy' } });
    const jobId = created.json.job.id;
    expect((await settled(jobId)).status).toBe('waiting_for_action');
    const listed = await t.call('GET', `/actions?jobId=${jobId}`);
    expect(listed.status).toBe(200);
    expect(listed.json.actions).toHaveLength(1);
    const action = listed.json.actions[0];
    expect(action).toMatchObject({ jobId, status: 'pending', type: 'approval' });
    expect(action.resumeToken).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(action).not.toHaveProperty('tokenHash');

    const badResolution = await t.call('POST', '/actions/resolve', { body: { resumeToken: action.resumeToken, resolution: { approved: 'yes' } } });
    expect(badResolution.status).toBe(400);
    expect(badResolution.json.error).toMatchObject({ code: 'invalid_resolution', field: 'resolution' });

    const resolved = await t.call('POST', '/actions/resolve', { principal: 'bob', body: { resumeToken: action.resumeToken, resolution: { approved: true }, comment: 'ship it' } });
    expect(resolved.status).toBe(200);
    expect(resolved.json.action).toMatchObject({ id: action.id, status: 'resolved', resolvedBy: 'bob' });
    expect(resolved.json.action).not.toHaveProperty('resumeToken');
    const done = await settled(jobId);
    expect(done).toMatchObject({ status: 'completed', result: { text: 'Deployed: {"ok":true,"version":"1.2.3"}' } });
    const after = await t.call('GET', `/actions?jobId=${jobId}`);
    expect(after.json.actions[0]).not.toHaveProperty('resumeToken');

    const reused = await t.call('POST', '/actions/resolve', { body: { resumeToken: action.resumeToken, resolution: { approved: true } } });
    expect(reused.status).toBeGreaterThanOrEqual(400);
    expect(reused.json.error.code).toMatch(/action_already_resolved|invalid_resume_token/);
  });
});

describe('scopes, auth and bad input', () => {
  it('refuses another scope on every route with a 404, and changes nothing', async () => {
    const created = await t.call('POST', '/jobs', { body: { input: 'deploy it' } });
    const jobId = created.json.job.id;
    await settled(jobId);
    const token = (await t.call('GET', `/actions?jobId=${jobId}`)).json.actions[0].resumeToken as string;
    const other = { scope: 'tenant-b', principal: 'mallory' } as const;

    const attempts = [
      await t.call('GET', `/jobs/${jobId}`, other),
      await t.call('POST', `/jobs/${jobId}/cancel`, { ...other, body: {} }),
      await t.call('GET', `/actions?jobId=${jobId}`, other),
      await t.call('POST', '/actions/resolve', { ...other, body: { resumeToken: token, resolution: { approved: true } } }),
      await t.call('GET', `/jobs/${jobId}/events`, other),
    ];
    for (const r of attempts) {
      expect(r.status).toBe(404);
      expect(r.json.error.code).toMatch(/_not_found$|invalid_resume_token/);
    }
    const listed = await t.call('GET', '/jobs', other);
    expect(listed.json.jobs.map((j: { id: string }) => j.id)).not.toContain(jobId);
    // A session of the same name in another scope is another session.
    const sessionJob = await t.call('POST', '/sessions/shared-name/messages', { body: { message: 'hi' } });
    const otherSession = await t.call('GET', '/jobs?sessionId=shared-name', other);
    expect(otherSession.json.jobs).toEqual([]);
    await settled(sessionJob.json.job.id);

    const job = await t.call('GET', `/jobs/${jobId}`);
    expect(job.json.job.status).toBe('waiting_for_action');
    expect((await t.call('GET', `/actions?jobId=${jobId}`)).json.actions[0]).toMatchObject({ status: 'pending', resumeToken: token });
  });

  it('401 without credentials, on every route', async () => {
    for (const [method, path] of [
      ['POST', '/jobs'],
      ['GET', '/jobs'],
      ['GET', '/jobs/x'],
      ['POST', '/jobs/x/cancel'],
      ['POST', '/sessions/s/messages'],
      ['GET', '/actions?jobId=x'],
      ['POST', '/actions/resolve'],
      ['GET', '/jobs/x/events'],
      ['GET', '/sessions/s/events'],
    ] as const) {
      const r = await t.call(method, path, { scope: null, ...(method === 'POST' ? { body: {} } : {}) });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.json.error.code).toBe('unauthenticated');
    }
  });

  it('400 naming the field for bad bodies and queries', async () => {
    const cases: Array<[string, string, Parameters<typeof t.call>[2], string]> = [
      ['POST', '/jobs', { body: {} }, 'input'],
      ['POST', '/jobs', { body: { input: 'x', priority: 'urgent-ish' } }, 'priority'],
      ['POST', '/jobs', { body: { input: 'x', scopeId: 'tenant-b' } }, 'scopeId'],
      ['POST', '/jobs', { body: { input: 'x', timeoutSeconds: -1 } }, 'timeoutSeconds'],
      ['POST', '/sessions/s/messages', { body: { message: '' } }, 'message'],
      ['POST', '/sessions/s/messages', { body: { message: 'hi', strategy: 'shout' } }, 'strategy'],
      ['POST', '/sessions/s/messages', { body: { message: 'hi', history: [{ role: 'robot', content: 'x' }] } }, 'history.0.role'],
      ['POST', '/actions/resolve', { body: { resolution: { approved: true } } }, 'resumeToken'],
      ['POST', '/jobs/x/cancel', { body: { reason: 42 } }, 'reason'],
      ['GET', '/jobs?limit=0', {}, 'query.limit'],
      ['GET', '/jobs?status=sleeping', {}, 'query.status.0'],
      ['GET', '/jobs?colour=red', {}, 'query.colour'],
      ['GET', '/actions', {}, 'query.jobId'],
    ];
    for (const [method, path, options, field] of cases) {
      const r = await t.call(method, path, options);
      expect(r.status, `${method} ${path} ${JSON.stringify(options)}`).toBe(400);
      expect(r.json.error).toMatchObject({ code: 'invalid_request', field });
      expect(r.json.error.message).toContain(field.replace(/^query\./, ''));
    }
    const malformed = await t.call('POST', '/jobs', { rawBody: '{"input": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe('invalid_json');
    const unknownAgent = await t.call('POST', '/jobs', { body: { input: 'x', workflow: 'nope' } });
    expect(unknownAgent.status).toBe(400);
    expect(unknownAgent.json.error).toMatchObject({ code: 'unknown_workflow', field: 'workflow' });
    expect((await t.call('GET', '/jobs', {})).json.jobs.every((j: { input: unknown }) => j.input !== 'x')).toBe(true);
  });

  it('413 for an oversized body, with or without a content length', async () => {
    const big = { input: 'x'.repeat(10_000) };
    const r = await t.call('POST', '/jobs', { body: big });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('payload_too_large');
    const chunked = await fetch(`${t.url}/jobs`, {
      method: 'POST',
      headers: { 'x-baton-scope': 'tenant-a', 'x-baton-principal': 'alice', 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(JSON.stringify(big)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it('unknown routes are JSON 404s', async () => {
    const r = await t.call('GET', '/nope');
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('route_not_found');
  });
});
