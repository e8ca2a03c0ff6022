import { InvalidArgumentError } from '@baton/llm-client';
import { sqlState } from './driver-errors.js';

/** A number from an int4/int8/numeric column read as text, number or bigint. */
export function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return Number(value);
  return Number.NaN;
}

/** Parses a `record::text` column. Invalid JSON surfaces as `undefined` so that the record parser reports it. */
export function parseJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/** JSON text for a `$n::jsonb` parameter. */
export function jsonParam(value: unknown): string {
  return JSON.stringify(value);
}

/** Whether JSON text holds a NUL character (`\u0000`), which Postgres refuses in JSONB and text: names the culprit of a statement with several. */
export function hasNul(json: unknown): boolean {
  return typeof json === 'string' && /(?<!\\)(?:\\\\)*\\u0000/.test(json);
}

/**
 * Maps errors that mean "this value cannot be stored" to `InvalidArgumentError`: JSONB refuses
 * the NUL character (`\u0000`) in strings (22P05), and out-of-range numbers (22003).
 */
export function mapValueError(error: unknown, argument: string): unknown {
  const state = sqlState(error);
  if (state === '22P05') return new InvalidArgumentError(argument, 'JSON strings stored in Postgres cannot contain the NUL character (\\u0000)', error);
  if (state === '22021') return new InvalidArgumentError(argument, 'text stored in Postgres cannot contain the NUL character (\\u0000)', error);
  if (state === '22003') return new InvalidArgumentError(argument, 'a number is out of the range Postgres stores', error);
  return error;
}

/** A positive integer limit, or the default. */
export function limitOf(limit: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new InvalidArgumentError('limit', max === Number.MAX_SAFE_INTEGER ? 'must be a positive integer' : `must be an integer from 1 to ${max}`);
  return limit;
}
