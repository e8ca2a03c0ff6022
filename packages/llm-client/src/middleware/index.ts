export { composeModelMiddleware, composeToolMiddleware, type ModelHandler, type ToolHandler } from './compose.js';
export { defaultMiddleware, type DefaultChain, type DefaultMiddlewareOptions } from './default-middleware.js';
export { loggingMiddleware, type LoggingMiddlewareOptions } from './logging-middleware.js';
export { silentLogger, type Logger } from './logger.js';
export { timeoutMiddleware, type TimeoutMiddlewareOptions } from './timeout-middleware.js';
export { retryMiddleware, defaultShouldRetry, type ToolRetryOptions } from './retry-middleware.js';
export { budgetMiddleware, type BudgetMiddlewareOptions } from './budget-middleware.js';
export { telemetryMiddleware, type TelemetryEvent, type TelemetryMiddlewareOptions } from './telemetry-middleware.js';
