import type { RuntimeKernel } from '@baton/agent-runtime';
import { BatonError } from '@baton/llm-client';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ActionTokenVault, type ActionRequiredInfo } from '../actions/action-token-vault.js';
import { NotFoundError } from '../errors/not-found-error.js';
import { PayloadTooLargeError } from '../errors/payload-too-large-error.js';
import { UnauthenticatedError } from '../errors/unauthenticated-error.js';
import { errorResponse } from '../http/error-response.js';
import { registerActionRoutes } from '../routes/action-routes.js';
import { registerEventRoutes } from '../routes/event-routes.js';
import { registerJobRoutes } from '../routes/job-routes.js';
import { registerSessionRoutes } from '../routes/session-routes.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { registerWsRoutes } from '../routes/ws-routes.js';
import type { EventChannel } from '../sse/event-channel.js';
import { createUpgradeHandler } from '../ws/ws-upgrade.js';
import { FrameCache } from '../sse/sse-frame.js';
import { StreamLimiter } from '../sse/stream-limiter.js';
import { listenOn, type ListenOptions, type ListeningServer } from './listen.js';
import type { RouteContext, ServerEnv } from './route-context.js';
import { resolveServerOptions, type BatonServerOptions } from './server-options.js';

/** The HTTP + SSE transport over one kernel. */
export interface BatonServer {
  /** The Hono app: mount it (`parent.route('/', server.app)`) or serve `server.fetch` anywhere. */
  readonly app: Hono<ServerEnv>;
  readonly kernel: RuntimeKernel;
  /** Resume tokens held for their scopes' clients. */
  readonly actionTokens: ActionTokenVault;
  /** The same as `actionTokens.onActionRequired`: for a kernel that forwards its callback. */
  readonly onActionRequired: (info: ActionRequiredInfo) => void;
  /**
   * A web-standard handler (Bun, Deno, workers, other frameworks). Under `@hono/node-server`
   * pass its bindings as `env` (`serve({ fetch: server.fetch })` does) so that event streams
   * write to the Node response directly.
   */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
  /**
   * Answers a Node HTTP `upgrade` event: `/ws/sessions/:id` becomes a WebSocket (after
   * `authenticate` and the stream limit), anything else is refused with its HTTP error.
   * `listen()` wires it; on your own `node:http` server: `httpServer.on('upgrade', server.handleUpgrade)`.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Serves on Node's HTTP server (and its WebSocket upgrades); default `127.0.0.1` on a free port. */
  listen(options?: ListenOptions): Promise<ListeningServer>;
  /** Event streams (SSE and WebSocket) open now, of one scope or in all. */
  openStreams(scopeId?: string): number;
  /** Ends every open event stream and WebSocket (their jobs go on) and stops following the bus. The kernel stays yours to close. */
  close(): void;
}

/**
 * Creates the HTTP API: jobs, sessions, actions, and their events as Server-Sent Events. Every
 * route is scoped by `authenticate`: another scope's job is a 404, like a job that does not exist.
 *
 * ```ts
 * const server = createBatonServer({
 *   kernel: (hooks) => RuntimeKernel.create({ engine, agent, ...hooks }),
 *   authenticate: async (request) => verifySession(request),
 * });
 * const { url } = await server.listen({ port: 8787 });
 * ```
 */
export function createBatonServer(options: BatonServerOptions): BatonServer {
  const resolved = resolveServerOptions(options);
  const tokens = options.actionTokens ?? new ActionTokenVault();
  const kernel = typeof options.kernel === 'function' ? options.kernel({ onActionRequired: tokens.onActionRequired }) : options.kernel;
  const onError = options.onError ?? (() => {});
  const authenticate = options.authenticate;
  const channels = new Set<EventChannel>();
  const limiter = new StreamLimiter(resolved.maxStreamsPerScope);
  const unwatch = tokens.watch(kernel.stores.events);
  const ctx: RouteContext = {
    kernel,
    tokens,
    frames: new FrameCache(),
    onError,
    limiter,
    channels,
    heartbeatIntervalMs: resolved.heartbeatIntervalMs,
    retryMs: resolved.retryMs,
    maxBufferedEvents: resolved.maxBufferedEvents,
    wsHeartbeatIntervalMs: resolved.wsHeartbeatIntervalMs,
    wsResumeWaitMs: resolved.wsResumeWaitMs,
    beforeExecute: options.beforeExecute,
  };

  const base = new Hono<ServerEnv>();
  const app = resolved.basePath ? base.basePath(resolved.basePath) : base;
  app.onError((error, c) => {
    const { status, body } = errorResponse(error, onError);
    return c.json(body, status as 400);
  });
  app.notFound((c) => {
    const { status, body } = errorResponse(new NotFoundError('route', `${c.req.method} ${new URL(c.req.url).pathname}`), onError);
    return c.json(body, status as 404);
  });
  app.use('*', async (c, next) => {
    let principal;
    try {
      principal = await authenticate(c.req.raw);
    } catch (error) {
      if (BatonError.isInstance(error)) throw error;
      onError(error);
      throw new UnauthenticatedError('authentication failed');
    }
    if (!principal || typeof principal.scopeId !== 'string' || principal.scopeId === '' || typeof principal.principalId !== 'string' || principal.principalId === '') {
      throw new UnauthenticatedError();
    }
    c.set('principal', { scopeId: principal.scopeId, principalId: principal.principalId });
    await next();
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: resolved.maxBodyBytes,
      onError: (c) => {
        const { status, body } = errorResponse(new PayloadTooLargeError(resolved.maxBodyBytes), onError);
        return c.json(body, status as 413);
      },
    }),
  );
  registerJobRoutes(app, ctx);
  registerSessionRoutes(app, ctx);
  registerActionRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  registerWsRoutes(app, ctx);
  const upgrades = createUpgradeHandler((request, env) => app.fetch(request, env), onError);

  const closeStreams = (): void => {
    for (const channel of [...channels]) channel.close();
  };
  return {
    app,
    kernel,
    actionTokens: tokens,
    onActionRequired: tokens.onActionRequired,
    fetch: (request, env) => app.fetch(request, env),
    handleUpgrade: upgrades.handle,
    listen: (listenOptions = {}) => listenOn((request, env) => app.fetch(request, env), listenOptions, closeStreams, upgrades.handle),
    openStreams: (scopeId) => (scopeId === undefined ? channels.size : limiter.openStreams(scopeId)),
    close: () => {
      unwatch();
      closeStreams();
      upgrades.close();
    },
  };
}
