import { isTerminalJobStatus } from '@baton/agent-runtime';
import type { Context, Hono } from 'hono';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { NotFoundError } from '../errors/not-found-error.js';
import type { RouteContext, ServerEnv } from '../server/route-context.js';
import { pumpJobEvents } from '../sse/job-event-stream.js';
import { parseSessionCursor } from '../sse/session-cursor.js';
import { pumpSessionEvents } from '../sse/session-event-stream.js';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { SSE_HEADERS, SseChannel, type NodeResponseLike } from '../sse/sse-channel.js';
import { sessionIdParam } from './session-routes.js';

/**
 * `GET /jobs/:id/events` and `GET /sessions/:id/events` as Server-Sent Events. Both resume from
 * the `Last-Event-ID` header (or `?lastEventId=`, for a fresh `EventSource`; the header wins).
 * A job stream whose job has ended and has nothing left to send answers 204, which tells a
 * browser `EventSource` to stop reconnecting.
 */
export function registerEventRoutes(app: Hono<ServerEnv>, ctx: RouteContext): void {
  app.get('/jobs/:id/events', async (c) => {
    const { scopeId } = c.get('principal');
    const id = c.req.param('id');
    const job = await ctx.kernel.getJob(id, scopeId);
    if (!job) throw new NotFoundError('job', id);
    const last = lastEventId(c);
    let fromSeq = 1;
    if (last !== undefined) {
      if (!/^\d{1,15}$/.test(last)) throw new InvalidRequestError({ code: 'invalid_last_event_id', field: 'Last-Event-ID', message: 'Last-Event-ID: a job stream id is the seq of the last event received' });
      fromSeq = Number(last) + 1;
    }
    if (isTerminalJobStatus(job.status)) {
      const rest = await ctx.kernel.stores.events.replay({ jobId: id, scopeId, fromSeq, limit: 1 });
      if (rest.length === 0) return c.body(null, 204);
    }
    const channel = open(ctx, c, scopeId);
    void pumpJobEvents(ctx, job, fromSeq, channel, ctx.maxBufferedEvents);
    return respond(c, channel);
  });

  app.get('/sessions/:id/events', (c) => {
    const { scopeId } = c.get('principal');
    const sessionId = sessionIdParam(c.req.param('id'));
    const last = lastEventId(c);
    const cursor = last === undefined ? undefined : parseSessionCursor(last);
    if (last !== undefined && cursor === undefined) {
      throw new InvalidRequestError({ code: 'invalid_last_event_id', field: 'Last-Event-ID', message: 'Last-Event-ID: a session stream id is `<jobId>:<seq>[,<jobId>:<seq>…]`' });
    }
    const channel = open(ctx, c, scopeId);
    void pumpSessionEvents(ctx, { scopeId, sessionId, cursor, maxBuffered: ctx.maxBufferedEvents }, channel);
    return respond(c, channel);
  });
}

function lastEventId(c: Context<ServerEnv>): string | undefined {
  const value = c.req.header('last-event-id') ?? c.req.query('lastEventId');
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * Served by Node through `@hono/node-server` (the server's `listen()`, or a parent app on it),
 * the channel writes to the Node response directly; anywhere else its body is a `ReadableStream`.
 */
function open(ctx: RouteContext, c: Context<ServerEnv>, scopeId: string): SseChannel {
  const release = ctx.limiter.acquire(scopeId);
  const channel: SseChannel = new SseChannel({
    heartbeatIntervalMs: ctx.heartbeatIntervalMs,
    retryMs: ctx.retryMs,
    nodeResponse: nodeResponseOf(c),
    headers: preparedHeaders(c),
    onClose: () => {
      release();
      ctx.channels.delete(channel);
    },
  });
  ctx.channels.add(channel);
  return channel;
}

function respond(c: Context<ServerEnv>, channel: SseChannel): Response {
  return channel.body ? c.body(channel.body, 200, { ...SSE_HEADERS }) : RESPONSE_ALREADY_SENT;
}

/**
 * Headers that middleware set before the route ran (`cors()` does): a Node-mode stream writes its
 * head itself, so it carries them over. Headers set after the handler returns cannot reach it.
 */
function preparedHeaders(c: Context<ServerEnv>): Record<string, string> {
  const out: Record<string, string> = {};
  c.res.headers.forEach((value, key) => {
    if (key !== 'content-type' && key !== 'content-length') out[key] = value;
  });
  return out;
}

function nodeResponseOf(c: Context<ServerEnv>): NodeResponseLike | undefined {
  const outgoing = (c.env as { outgoing?: Partial<NodeResponseLike> } | undefined)?.outgoing;
  return outgoing && typeof outgoing.writeHead === 'function' && typeof outgoing.write === 'function' && typeof outgoing.on === 'function' ? (outgoing as NodeResponseLike) : undefined;
}
