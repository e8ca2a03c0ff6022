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

  it('trustHeaderAuth reads the two headers and refuses when one is missing', async () => {
    const auth = trustHeaderAuth();
    expect(await auth(new Request('http://x', { headers: { 'x-baton-scope': 's', 'x-baton-principal': 'p' } }))).toEqual({ scopeId: 's', principalId: 'p' });
    expect(await auth(new Request('http://x', { headers: { 'x-baton-scope': 's' } }))).toBeUndefined();
  });
});
