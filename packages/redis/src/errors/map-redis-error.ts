import { BatonError } from '@baton/llm-client';
import { RedisCommandError } from './redis-command-error.js';
import { RedisUnavailableError } from './redis-unavailable-error.js';

const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const CONNECTION_MESSAGES = [/connection is closed/i, /stream isn't writeable/i, /command timed out/i, /socket closed unexpectedly/i];
/** Replies that say the server cannot serve right now (as opposed to refusing the command). */
const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS|MISCONF)\b/;

/** True for errors that say the connection (not the command) failed. */
export function isRedisConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_ERRNOS.has(code)) return true;
  if (error.name === 'ReplyError') return UNAVAILABLE_REPLIES.test(error.message);
  return CONNECTION_MESSAGES.some((re) => re.test(error.message));
}

/**
 * Turns an ioredis error into a typed one: connection failures into `RedisUnavailableError`
 * (retryable), server refusals into `RedisCommandError`. Baton errors and anything else pass
 * through unchanged.
 */
export function mapRedisError(error: unknown, operation: string): unknown {
  if (BatonError.isInstance(error) || !(error instanceof Error)) return error;
  if (isRedisConnectionError(error)) {
    const code = (error as { code?: unknown }).code;
    const driverCode = typeof code === 'string' ? code : error.name === 'ReplyError' ? error.message.split(' ')[0] : error.name;
    return new RedisUnavailableError({ operation, message: error.message, driverCode, cause: error });
  }
  if (error.name === 'ReplyError') return new RedisCommandError({ operation, reply: error.message, cause: error });
  return error;
}
