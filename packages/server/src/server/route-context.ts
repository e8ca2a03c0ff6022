import type { ExecutionRequest } from '@baton/agent-runtime';
import type { Principal } from '../auth/principal.js';
import type { EventChannel } from '../sse/event-channel.js';
import type { StreamLimiter } from '../sse/stream-limiter.js';
import type { StreamDeps } from '../sse/stream-deps.js';

/** Hono environment of the server's routes: `c.get('principal')` is the authenticated caller. */
export interface ServerEnv {
  Variables: { principal: Principal };
}

/** Lets the host adjust or refuse a request before the kernel runs it (pin `policyRef`, cap `budgets`). */
export type BeforeExecute = (request: ExecutionRequest, context: { principal: Principal; request: Request }) => ExecutionRequest | Promise<ExecutionRequest>;

/** What the route groups share. */
export interface RouteContext extends StreamDeps {
  readonly limiter: StreamLimiter;
  /** Open event streams, so that `close()` can end them. */
  readonly channels: Set<EventChannel>;
  readonly heartbeatIntervalMs: number;
  readonly retryMs: number | undefined;
  readonly maxBufferedEvents: number;
  readonly wsHeartbeatIntervalMs: number;
  readonly wsResumeWaitMs: number;
  readonly beforeExecute: BeforeExecute | undefined;
}
