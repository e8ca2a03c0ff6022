export { registerJobRoutes } from './job-routes.js';
export { registerSessionRoutes } from './session-routes.js';
export { registerActionRoutes } from './action-routes.js';
export { registerEventRoutes } from './event-routes.js';
export * from './schemas.js';
