import { hash } from 'node:crypto';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';

const MAX_DEPTH = 1000;

/**
 * Canonical JSON: the JSON text of `value` with object keys sorted, so two values that are
 * equal as JSON always give the same text. Follows `JSON.stringify` otherwise: `undefined`,
 * functions and symbols are left out of objects (and become `null` in arrays), `toJSON` is
 * honoured, non-finite numbers become `null`. Throws `InvalidArgumentError` on a cycle (or
 * nesting deeper than 1,000) or a bigint.
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0) ?? 'null';
}

/** sha256 (hex) of the canonical JSON of `value`. */
export function stableHash(value: unknown): string {
  return hash('sha256', canonicalJson(value), 'hex');
}

/** The JSON text of `input`, or undefined when JSON leaves it out. */
function write(input: unknown, depth: number): string | undefined {
  let value = input;
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new InvalidArgumentError('value', 'a bigint has no JSON form');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return 'null';
  if (depth >= MAX_DEPTH) throw new InvalidArgumentError('value', 'a value with a cycle (or nested deeper than 1,000) has no canonical JSON form');
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += write(value[i], depth + 1) ?? 'null';
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = '{';
  for (const key of keys) {
    const v = write(record[key], depth + 1);
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${v}`;
  }
  return `${out}}`;
}
