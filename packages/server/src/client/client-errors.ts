// The client runs in browsers, so it does not import `@baton/llm-client` (which needs Node).
// Its errors carry the same marker as `BatonError`, so `BatonError.isInstance(e)` holds for them.
const MARKER = Symbol.for('baton.error');

/** Base of the client's errors: a stable `code` and a `retryable` flag, like every Baton error. */
export class EventSourceError extends Error {
  private readonly [MARKER] = true;
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EventSourceError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** An option is missing or out of range (`code: 'invalid_argument'`, as `InvalidArgumentError`). */
export class InvalidEventSourceOptionError extends EventSourceError {
  readonly argument: string;

  constructor(argument: string, message: string) {
    super('invalid_argument', `Invalid argument '${argument}': ${message}`);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
  }
}

/** The server answered with an error status; `retryable` for 408, 429 and 5xx. */
export class EventSourceHttpError extends EventSourceError {
  readonly status: number;
  /** The server's `{ error: { code } }`, when it sent one. */
  readonly serverCode: string | undefined;

  constructor(status: number, message: string, serverCode?: string) {
    super('http_error', `event stream refused with HTTP ${status}: ${message}`, { retryable: status === 408 || status === 429 || status >= 500 });
    this.name = 'EventSourceHttpError';
    this.status = status;
    this.serverCode = serverCode;
  }
}

/** Nothing, not even a heartbeat, arrived for `heartbeatTimeoutMs`: the connection is taken as dead. */
export class HeartbeatTimeoutError extends EventSourceError {
  constructor(timeoutMs: number) {
    super('heartbeat_timeout', `no data for ${timeoutMs} ms`, { retryable: true });
    this.name = 'HeartbeatTimeoutError';
  }
}

/** Every reconnection attempt failed; `cause` is the last failure. */
export class ReconnectFailedError extends EventSourceError {
  readonly attempts: number;

  constructor(attempts: number, cause: unknown) {
    super('reconnect_failed', `gave up after ${attempts} reconnection attempts`, { cause });
    this.name = 'ReconnectFailedError';
    this.attempts = attempts;
  }
}
