import { InvalidArgumentError } from '@baton/llm-client';

export const DEFAULT_KEY_PREFIX = 'baton:';

/** Checks a key prefix option (default `baton:`). */
export function keyPrefixOf(value: unknown, option = 'keyPrefix'): string {
  if (value === undefined) return DEFAULT_KEY_PREFIX;
  if (typeof value !== 'string') throw new InvalidArgumentError(option, 'must be a string');
  if (/\s/.test(value)) throw new InvalidArgumentError(option, 'must not contain whitespace');
  return value;
}

/** One id inside a key, URI-encoded so that ids containing ':' cannot make two keys collide. */
export function keyPart(value: string): string {
  return encodeURIComponent(value);
}

/** A positive integer option, or its default. */
export function positiveInt(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidArgumentError(option, 'must be a positive integer');
  return value;
}
