import type { ExecutionRequest } from '@baton/agent-runtime';
import type { Hono } from 'hono';
import { NotFoundError } from '../errors/not-found-error.js';
import { parseInput, readJson } from '../http/parse-input.js';
import { jobView } from '../http/views.js';
import type { RouteContext, ServerEnv } from '../server/route-context.js';
import { CancelJobBodySchema, CreateJobBodySchema, ListJobsQuerySchema } from './schemas.js';

/** `POST /jobs`, `GET /jobs/:id`, `GET /jobs`, `POST /jobs/:id/cancel`. */
export function registerJobRoutes(app: Hono<ServerEnv>, ctx: RouteContext): void {
  app.post('/jobs', async (c) => {
    const principal = c.get('principal');
    const body = parseInput(CreateJobBodySchema, await readJson(c.req), 'body');
    let request: ExecutionRequest = { ...body, scopeId: principal.scopeId, principalId: principal.principalId };
    if (ctx.beforeExecute) request = await ctx.beforeExecute(request, { principal, request: c.req.raw });
    const handle = await ctx.kernel.execute(request);
    return c.json({ job: jobView(handle.job), created: handle.created }, handle.created ? 201 : 200);
  });

  app.get('/jobs', async (c) => {
    const { scopeId } = c.get('principal');
    const query = parseInput(ListJobsQuerySchema, flattenQuery(c.req.queries()), 'query');
    const page = await ctx.kernel.listJobs({ scopeId, ...query });
    return c.json({ jobs: page.jobs.map(jobView), ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) });
  });

  app.get('/jobs/:id', async (c) => {
    const id = c.req.param('id');
    const job = await ctx.kernel.getJob(id, c.get('principal').scopeId);
    if (!job) throw new NotFoundError('job', id);
    return c.json({ job: jobView(job) });
  });

  app.post('/jobs/:id/cancel', async (c) => {
    const id = c.req.param('id');
    const { reason } = parseInput(CancelJobBodySchema, await readJson(c.req, { emptyAsObject: true }), 'body');
    const job = await ctx.kernel.cancel(id, c.get('principal').scopeId, reason);
    if (!job) throw new NotFoundError('job', id);
    const latest = (await ctx.kernel.getJob(id, job.scopeId)) ?? job;
    return c.json({ job: jobView(latest) });
  });
}

/** `?status=a&status=b` and `?status=a,b` alike; other repeated keys are joined the same way. */
export function flattenQuery(queries: Record<string, string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(queries)) out[key] = values.join(',');
  return out;
}
