import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Ledger, RuntimeKernel } from '@baton/agent-runtime';
import { createBatonServer, type BatonServer } from '@baton/server';
import { createAdaptorServer } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { chatRuntime, type ChatKernelOptions } from './chat-kernel.js';
import { cookieIdentity, newIdentityCookie, principalOf } from './identity.js';
import { inspectJob } from './inspect/inspect-job.js';

export interface ChatServerOptions extends ChatKernelOptions {
  /** Serve the built page from this folder (absent: the API only, e.g. under Vite's dev server). */
  staticDir?: string;
  /** Unexpected errors (500s, failed streams). Default: printed to stderr. */
  onError?: (error: unknown) => void;
}

export interface ChatServer {
  /** `/api/*` (Baton's routes, the identity cookie, the job inspector), then the page. */
  readonly app: Hono;
  readonly baton: BatonServer;
  readonly kernel: RuntimeKernel;
  readonly ledger: Ledger;
  /** Serves on 127.0.0.1 by default. */
  listen(options?: { port?: number; host?: string }): Promise<{ url: string; server: Server }>;
  /** Ends the streams, stops the HTTP server and closes the kernel. */
  close(): Promise<void>;
}

/**
 * The chat app's server: `@baton/server` under `/api` over the chat kernel, plus two routes of
 * its own — `POST /api/identity` (hands a visitor their id cookie) and
 * `GET /api/inspect/jobs/:id` (a job's timeline and spend for the inspector) — and the page.
 */
export function createChatServer(options: ChatServerOptions = {}): ChatServer {
  const runtime = chatRuntime(options);
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const baton = createBatonServer({ kernel: runtime.createKernel, authenticate: cookieIdentity, basePath: '/api', onError, sse: { heartbeatIntervalMs: 10_000, retryMs: 500 } });
  const app = new Hono();

  app.post('/api/identity', (c) => {
    const known = principalOf(c.req.header('cookie'));
    if (known) return c.json({ principalId: known.principalId });
    const issued = newIdentityCookie();
    c.header('set-cookie', issued.setCookie);
    return c.json({ principalId: issued.principal.principalId }, 201);
  });

  app.get('/api/inspect/jobs/:id', async (c) => {
    const principal = principalOf(c.req.header('cookie'));
    if (!principal) return c.json({ error: { code: 'unauthenticated', message: 'no visitor id: POST /api/identity first' } }, 401);
    const inspection = await inspectJob(baton.kernel, runtime.ledger, principal.scopeId, c.req.param('id'));
    if (!inspection) return c.json({ error: { code: 'job_not_found', message: `job '${c.req.param('id')}' not found` } }, 404);
    return c.json(inspection);
  });

  app.route('/', baton.app);
  if (options.staticDir) app.use('/*', serveStatic({ root: options.staticDir }));

  let http: Server | undefined;
  return {
    app,
    baton,
    kernel: baton.kernel,
    ledger: runtime.ledger,
    async listen({ port = 0, host = '127.0.0.1' } = {}) {
      http = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;
      const server = http;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      return { url: `http://${host}:${(server.address() as AddressInfo).port}`, server };
    },
    async close() {
      baton.close();
      if (http) {
        const server = http;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
      await baton.kernel.close();
    },
  };
}
