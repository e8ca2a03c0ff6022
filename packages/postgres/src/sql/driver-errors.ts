import { StoreUnavailableError } from '../errors/store-unavailable-error.js';

const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const CONNECTION_MESSAGES = [/connection terminated/i, /not queryable/i, /timeout exceeded when trying to connect/i, /connection.*(closed|ended)/i, /cannot use a pool after calling end/i];

/** The SQLSTATE of a database error (`23505`, `40001`, …), if the value carries one. */
export function sqlState(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True for errors that say the connection (not the statement) failed. */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTION_ERRNOS.has(code)) return true;
    // Class 08: connection exception; 57P01-57P03: the server is shutting down or starting.
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && CONNECTION_MESSAGES.some((re) => re.test(message));
}

/** Turns a lost-connection error into `StoreUnavailableError`; other errors pass through unchanged. */
export function mapDriverError(error: unknown): unknown {
  if (!isConnectionError(error)) return error;
  const code = (error as { code?: unknown }).code;
  const message = (error as { message?: unknown }).message;
  return new StoreUnavailableError({
    message: `Database connection lost or unavailable: ${typeof message === 'string' ? message : String(error)}`,
    driverCode: typeof code === 'string' ? code : undefined,
    cause: error,
  });
}
