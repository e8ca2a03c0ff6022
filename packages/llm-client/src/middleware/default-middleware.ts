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

/**
 * The chain an agent uses unless `useDefaultMiddleware: false`, outermost first: logging,
 * telemetry, budget, retry, timeout. Telemetry and logging see each call once (retries
 * included), the budget admits a call once however often it is retried, and the timeout
 * applies to each attempt. Compose your own chain from the same factories.
 */
export function defaultMiddleware(options: DefaultMiddlewareOptions = {}): AgentMiddleware[] {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('defaultMiddleware', 'must be an object');
  const now = options.now;
  const chain: AgentMiddleware[] = [
    loggingMiddleware({ ...(options.logger ? { logger: options.logger } : {}), logContent: options.logContent === true, ...(now ? { now } : {}) }),
  ];
  if (options.onEvent !== undefined) chain.push(telemetryMiddleware({ onEvent: options.onEvent, ...(now ? { now } : {}) }));
  chain.push(budgetMiddleware(now ? { now } : {}));
  if (options.toolRetry !== false) chain.push(retryMiddleware(options.toolRetry ?? {}));
  chain.push(
    timeoutMiddleware({
      ...(options.modelTimeoutMs !== undefined ? { modelTimeoutMs: options.modelTimeoutMs } : {}),
      ...(options.toolTimeoutMs !== undefined ? { toolTimeoutMs: options.toolTimeoutMs } : {}),
    }),
  );
  return chain;
}
