import { BatonError } from '@baton/llm-client';

/**
 * The database could not be reached or the connection was lost while a statement ran (server
 * restart, terminated backend, network). Retryable: the pool opens a new connection for the next
 * call. A statement cut this way either committed whole or not at all: nothing is half-written.
 */
export class StoreUnavailableError extends BatonError {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'store_unavailable';
  /** The driver's error code (`ECONNREFUSED`, `57P01`, …) when there is one. */
  readonly driverCode: string | undefined;
  constructor(options: { message: string; driverCode?: string | undefined; cause?: unknown }) {
    super({ message: options.message, cause: options.cause, retryable: true });
    this.driverCode = options.driverCode;
  }
}
