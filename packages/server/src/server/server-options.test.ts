import { RuntimeKernel } from '@baton/agent-runtime';
import { describe, expect, it } from 'vitest';
import { trustHeaderAuth } from '../auth/trust-header-auth.js';
import { createBatonServer } from './create-baton-server.js';

describe('createBatonServer options', () => {
  const kernel = RuntimeKernel.create();
  const authenticate = trustHeaderAuth();

  it('refuses invalid values with InvalidArgumentError naming the option', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ kernel }, 'authenticate'],
      [{ authenticate }, 'kernel'],
      [{ kernel, authenticate, basePath: 'baton' }, 'basePath'],
      [{ kernel, authenticate, basePath: '/baton/' }, 'basePath'],
      [{ kernel, authenticate, limits: { maxBodyBytes: 0 } }, 'limits.maxBodyBytes'],
      [{ kernel, authenticate, limits: { maxStreamsPerScope: 1.5 } }, 'limits.maxStreamsPerScope'],
      [{ kernel, authenticate, sse: { heartbeatIntervalMs: -1 } }, 'sse.heartbeatIntervalMs'],
      [{ kernel, authenticate, sse: { retryMs: -5 } }, 'sse.retryMs'],
    ];
    for (const [options, argument] of cases) {
      expect(() => createBatonServer(options as never), argument).toThrow(expect.objectContaining({ code: 'invalid_argument', argument }));
    }
    expect(() => trustHeaderAuth({ scopeHeader: 'not a header' })).toThrow(expect.objectContaining({ argument: 'scopeHeader' }));
  });

  it('mounts under a base path and inside another app, through fetch alone', async () => {
    const server = createBatonServer({ kernel, authenticate, basePath: '/baton' });
    const headers = { 'x-baton-scope': 's', 'x-baton-principal': 'p' };
    const listed = await server.fetch(new Request('http://local/baton/jobs', { headers }));
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ jobs: [] });
    expect((await server.fetch(new Request('http://local/jobs', { headers }))).status).toBe(404);
    const { Hono } = await import('hono');
    const parent = new Hono();
    parent.get('/health', (c) => c.text('ok'));
    parent.route('/', server.app);
    expect(await (await parent.request('/health')).text()).toBe('ok');
    expect((await parent.request('/baton/jobs', { headers })).status).toBe(200);
    expect((await parent.request('/baton/jobs')).status).toBe(401);
    server.close();
  });

  it('a stream served through a parent app on Node keeps the headers its middleware set (CORS)', async () => {
    const { Hono } = await import('hono');
    const { cors } = await import('hono/cors');
    const { createAdaptorServer } = await import('@hono/node-server');
    const server = createBatonServer({ kernel: RuntimeKernel.create({ workflows: { w: () => 1 } }), authenticate });
    const parent = new Hono();
    parent.use('*', cors({ origin: 'https://app.example' }));
    parent.route('/', server.app);
    const http = createAdaptorServer({ fetch: parent.fetch, overrideGlobalObjects: false }) as import('node:http').Server;
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
      const headers = { 'x-baton-scope': 's', 'x-baton-principal': 'p', origin: 'https://app.example' };
      const created = await fetch(`${base}/jobs`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ workflow: 'w', input: null }) });
      const { job } = (await created.json()) as { job: { id: string } };
      const stream = await fetch(`${base}/jobs/${job.id}/events`, { headers });
      expect(stream.status).toBe(200);
      expect(stream.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(await stream.text()).toContain('event: job.completed');
    } finally {
      server.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  it('trustHeaderAuth reads the two headers and refuses when one is missing', async () => {
    const auth = trustHeaderAuth();
    expect(await auth(new Request('http://x', { headers: { 'x-baton-scope': 's', 'x-baton-principal': 'p' } }))).toEqual({ scopeId: 's', principalId: 'p' });
    expect(await auth(new Request('http://x', { headers: { 'x-baton-scope': 's' } }))).toBeUndefined();
  });
});
