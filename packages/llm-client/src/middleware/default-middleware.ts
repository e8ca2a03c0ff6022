import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { AgentMiddleware } from '../agent/types.js';
import { budgetMiddleware } from './budget-middleware.js';
import { loggingMiddleware } from './logging-middleware.js';
import type { Logger } from './logger.js';
import { retryMiddleware, type ToolRetryOptions } from './retry-middleware.js';
import { telemetryMiddleware, type TelemetryEvent } from './telemetry-middleware.js';
import { timeoutMiddleware } from './timeout-middleware.js';

export interface DefaultMiddlewareOptions {
  /** Logging middleware's logger (default: silent). */
  logger?: Logger;
  /** Log prompts, answers, tool arguments and outputs too (default false). */
  logContent?: boolean;
  /** Telemetry hook (default: none). */
  onEvent?: (event: TelemetryEvent) => void;
  /** Per-attempt model call timeout handed to the engine (default: the engine's). */
  modelTimeoutMs?: number;
  /** Per-attempt tool call timeout (default 120,000 ms). */
  toolTimeoutMs?: number;
  /** Tool retries for retryable errors (default: 2 retries); `false` turns them off. */
  toolRetry?: ToolRetryOptions | false;
  /** Clock in milliseconds; the agent passes its own. */
  now?: () => number;
}

/** The default chain, in two parts that wrap the agent's and the run's own middleware. */
export interface DefaultChain {
  /** Outside your middleware, outermost first: logging, telemetry (with `onEvent`), budget. */
  outer: AgentMiddleware[];
  /** Inside your middleware, around the real call: retry (tools), timeout. */
  inner: AgentMiddleware[];
}

/**
 * The chain an agent uses unless `useDefaultMiddleware: false`:
 * `[...outer, ...agent middleware, ...run middleware, ...inner]`, outermost first.
 *
 * Logging, telemetry and the budget see every call once, replayed or not, so a replay counts
 * the same as the original run. Retry and timeout sit closest to the real call: a middleware of
 * yours that journals or answers from a recording sees each call's final outcome (after
 * retries), and a replayed call is neither timed out nor retried. Compose your own chain from
 * the same factories when this order does not fit.
 */
export function defaultMiddleware(options: DefaultMiddlewareOptions = {}): DefaultChain {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('defaultMiddleware', 'must be an object');
  const now = options.now;
  const outer: AgentMiddleware[] = [
    loggingMiddleware({ ...(options.logger ? { logger: options.logger } : {}), logContent: options.logContent === true, ...(now ? { now } : {}) }),
  ];
  if (options.onEvent !== undefined) outer.push(telemetryMiddleware({ onEvent: options.onEvent, ...(now ? { now } : {}) }));
  outer.push(budgetMiddleware(now ? { now } : {}));
  const inner: AgentMiddleware[] = [];
  if (options.toolRetry !== false) inner.push(retryMiddleware(options.toolRetry ?? {}));
  inner.push(
    timeoutMiddleware({
      ...(options.modelTimeoutMs !== undefined ? { modelTimeoutMs: options.modelTimeoutMs } : {}),
      ...(options.toolTimeoutMs !== undefined ? { toolTimeoutMs: options.toolTimeoutMs } : {}),
    }),
  );
  return { outer, inner };
}
