import type { ExecutionRequest } from '@baton/agent-runtime';
import type { Hono } from 'hono';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { parseInput, readJson } from '../http/parse-input.js';
import { jobView } from '../http/views.js';
import type { RouteContext, ServerEnv } from '../server/route-context.js';
import { SessionMessageBodySchema } from './schemas.js';

/**
 * `POST /sessions/:id/messages`: one chat turn, run by the kernel's agent (or `agent`). When the
 * session is busy the turn follows `strategy` (or the kernel's `sessionStrategy`): `reject` is a
 * 409 `session_busy`, `enqueue` waits, `interrupt` and `rollback` stop the running job.
 */
export function registerSessionRoutes(app: Hono<ServerEnv>, ctx: RouteContext): void {
  app.post('/sessions/:id/messages', async (c) => {
    const principal = c.get('principal');
    const sessionId = sessionIdParam(c.req.param('id'));
    const body = parseInput(SessionMessageBodySchema, await readJson(c.req), 'body');
    let request: ExecutionRequest = {
      scopeId: principal.scopeId,
      principalId: principal.principalId,
      sessionId,
      input: body.history ? { message: body.message, history: body.history } : body.message,
      ...(body.strategy !== undefined ? { strategy: body.strategy } : {}),
      ...(body.agent !== undefined ? { agent: body.agent } : {}),
      ...(body.idempotencyKey !== undefined ? { idempotencyKey: body.idempotencyKey } : {}),
      ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
    };
    if (ctx.beforeExecute) request = await ctx.beforeExecute(request, { principal, request: c.req.raw });
    const handle = await ctx.kernel.execute(request);
    return c.json({ job: jobView(handle.job), created: handle.created }, handle.created ? 201 : 200);
  });
}

export function sessionIdParam(id: string): string {
  if (id.length === 0 || id.length > 256) throw new InvalidRequestError({ message: 'path.sessionId: must be 1 to 256 characters', field: 'sessionId' });
  return id;
}
