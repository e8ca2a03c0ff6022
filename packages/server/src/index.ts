export * from './server/index.js';
export * from './auth/index.js';
export * from './actions/index.js';
export * from './errors/index.js';
export type { ErrorBody } from './http/error-response.js';
export type { JobView, ActionView } from './http/views.js';
export * from './sse/index.js';
export { CreateJobBodySchema, SessionMessageBodySchema, CancelJobBodySchema, ResolveActionBodySchema, ListJobsQuerySchema, ListActionsQuerySchema } from './routes/schemas.js';
