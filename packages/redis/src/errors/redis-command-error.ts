import { BatonError } from '@baton/llm-client';

/**
 * The Redis server refused a command (`WRONGTYPE`, `ERR …`, a script error): the connection is
 * fine but the same call would fail again, so it is not retryable. Usually a key that something
 * else wrote under this adapter's prefix, or a server without a command the adapter needs.
 */
export class RedisCommandError extends BatonError {
  override readonly name = 'RedisCommandError';
  readonly code = 'redis_command_failed';
  readonly operation: string;
  /** The server's reply, e.g. `WRONGTYPE Operation against a key holding the wrong kind of value`. */
  readonly reply: string;
  constructor(options: { operation: string; reply: string; cause?: unknown }) {
    super({ message: `Redis refused ${options.operation}: ${options.reply}`, cause: options.cause });
    this.operation = options.operation;
    this.reply = options.reply;
  }
}
