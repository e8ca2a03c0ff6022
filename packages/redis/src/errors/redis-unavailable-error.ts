import { BatonError } from '@baton/llm-client';

/**
 * Redis could not be reached, or the connection was lost while a command ran (refused, reset,
 * killed by `CLIENT KILL`, server loading or failing over). Retryable: ioredis reconnects on its
 * own, and the next call goes over the new connection. A command cut this way either ran whole
 * (every write here is one command or one Lua script, which Redis runs atomically) or not at all.
 */
export class RedisUnavailableError extends BatonError {
  override readonly name = 'RedisUnavailableError';
  readonly code = 'redis_unavailable';
  /** What the adapter was doing (`action-store.get`, `streams.xadd`, …). */
  readonly operation: string;
  /** The driver's or the server's code (`ECONNREFUSED`, `LOADING`, `MaxRetriesPerRequestError`) when there is one. */
  readonly driverCode: string | undefined;
  constructor(options: { operation: string; message: string; driverCode?: string | undefined; cause?: unknown }) {
    super({ message: `Redis unavailable during ${options.operation}: ${options.message}`, cause: options.cause, retryable: true });
    this.operation = options.operation;
    this.driverCode = options.driverCode;
  }
}
