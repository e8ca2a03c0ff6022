import { FINAL_ACTION_STATUSES } from '@baton/agent-runtime';
import type { Hono } from 'hono';
import { NotFoundError } from '../errors/not-found-error.js';
import { parseInput, readJson } from '../http/parse-input.js';
import { actionView, jobView } from '../http/views.js';
import type { RouteContext, ServerEnv } from '../server/route-context.js';
import { flattenQuery } from './job-routes.js';
import { ListActionsQuerySchema, ResolveActionBodySchema } from './schemas.js';

/**
 * `GET /actions?jobId=`: the job's actions, each pending one with its `resumeToken` when this
 * server holds it (only ever for the caller's own scope). `POST /actions/resolve`: answers an
 * action; when that is its final answer the job runs again.
 */
export function registerActionRoutes(app: Hono<ServerEnv>, ctx: RouteContext): void {
  app.get('/actions', async (c) => {
    const { scopeId } = c.get('principal');
    const { jobId } = parseInput(ListActionsQuerySchema, flattenQuery(c.req.queries()), 'query');
    const job = await ctx.kernel.getJob(jobId, scopeId);
    if (!job) throw new NotFoundError('job', jobId);
    const actions = await ctx.kernel.actions.listByJob({ scopeId, jobId });
    return c.json({
      actions: actions.map((a) => actionView(a, a.status === 'pending' ? ctx.tokens.tokenFor({ actionId: a.id, jobId: a.jobId, scopeId }) : undefined)),
    });
  });

  app.post('/actions/resolve', async (c) => {
    const { scopeId, principalId } = c.get('principal');
    const body = parseInput(ResolveActionBodySchema, await readJson(c.req), 'body');
    const { action } = await ctx.kernel.resume(body.resumeToken, body.resolution, { scopeId, principalId, ...(body.comment !== undefined ? { comment: body.comment } : {}) });
    if (FINAL_ACTION_STATUSES.has(action.status)) ctx.tokens.forget(action.id);
    const job = await ctx.kernel.getJob(action.jobId, scopeId);
    return c.json({ action: actionView(action, undefined), ...(job ? { job: jobView(job) } : {}) });
  });
}
