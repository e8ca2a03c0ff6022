import type { Hono } from 'hono';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { NotFoundError } from '../errors/not-found-error.js';
import type { RouteContext, ServerEnv } from '../server/route-context.js';
import { parseSessionCursor, type SessionCursorEntry } from '../sse/session-cursor.js';
import { pumpSessionEvents } from '../sse/session-event-stream.js';
import { WS_CLOSE, WsChannel } from '../ws/ws-channel.js';
import { wsUpgradeOf } from '../ws/ws-upgrade.js';
import { sessionIdParam } from './session-routes.js';

/**
 * `/ws/sessions/:id`: the session stream of `GET /sessions/:id/events` over a WebSocket, with the
 * same ids. It resumes from `?lastEventId=` (checked before the handshake: a 400 or 404 refuses
 * it) or from a first client message `{ "type": "resume", "lastEventId" }` (a bad one closes the
 * socket with 4400 or 4404). Without `?lastEventId=`, the stream starts at the first `resume`
 * message, or after `ws.resumeWaitMs` with none.
 */
export function registerWsRoutes(app: Hono<ServerEnv>, ctx: RouteContext): void {
  app.get('/ws/sessions/:id', async (c) => {
    const upgrade = wsUpgradeOf(c.env);
    if (!upgrade) throw new InvalidRequestError({ code: 'upgrade_required', message: 'a WebSocket endpoint: connect with a WebSocket client' });
    const { scopeId } = c.get('principal');
    const sessionId = sessionIdParam(c.req.param('id'));
    const last = c.req.query('lastEventId')?.trim();
    const cursor = last ? await checkedCursor(ctx, scopeId, last) : undefined;
    const release = ctx.limiter.acquire(scopeId);
    upgrade.accept((ws) => {
      let decided = cursor !== undefined;
      const start = (from: readonly SessionCursorEntry[] | undefined): void => {
        clearTimeout(wait);
        if (channel.closed) return;
        void pumpSessionEvents(ctx, { scopeId, sessionId, cursor: from, maxBuffered: ctx.maxBufferedEvents }, channel);
      };
      const channel: WsChannel = new WsChannel(ws, {
        heartbeatIntervalMs: ctx.wsHeartbeatIntervalMs,
        onClose: () => {
          clearTimeout(wait);
          release();
          ctx.channels.delete(channel);
        },
        onMessage: (message) => {
          if (message.type !== 'resume') return;
          if (decided) {
            channel.close(WS_CLOSE.badRequest, 'resume must be the first message');
            return;
          }
          decided = true;
          const id = message['lastEventId'];
          if (id === undefined || id === null || id === '') return start(undefined);
          if (typeof id !== 'string') return channel.close(WS_CLOSE.badRequest, 'lastEventId must be a string');
          checkedCursor(ctx, scopeId, id.trim()).then(start, (error: unknown) => {
            channel.close(error instanceof NotFoundError ? WS_CLOSE.notFound : WS_CLOSE.badRequest, error instanceof Error ? error.message.slice(0, 120) : 'refused');
          });
        },
      });
      ctx.channels.add(channel);
      const wait = setTimeout(() => {
        if (decided) return;
        decided = true;
        start(undefined);
      }, cursor === undefined ? ctx.wsResumeWaitMs : 0);
      if (cursor !== undefined) start(cursor);
    }, release);
    return c.body(null, 204);
  });
}

/**
 * A session cursor naming at least one job of the caller's scope. A cursor that names none (a
 * forged one, another scope's) is refused like a job that does not exist.
 */
async function checkedCursor(ctx: RouteContext, scopeId: string, text: string): Promise<SessionCursorEntry[]> {
  const cursor = parseSessionCursor(text);
  if (cursor === undefined) {
    throw new InvalidRequestError({ code: 'invalid_last_event_id', field: 'lastEventId', message: 'lastEventId: a session stream id is `<jobId>:<seq>[,<jobId>:<seq>…]`' });
  }
  for (const entry of cursor) if (await ctx.kernel.getJob(entry.jobId, scopeId)) return cursor;
  throw new NotFoundError('job', cursor[0]!.jobId);
}
