import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';

/**
 * Canonical JSON: the JSON text of `value` with object keys sorted, so two values that are
 * equal as JSON always give the same text. Follows `JSON.stringify` otherwise: `undefined`,
 * functions and symbols are left out of objects (and become `null` in arrays), `toJSON` is
 * honoured, non-finite numbers become `null`. Throws `InvalidArgumentError` on a cycle or a
 * bigint.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, new Set());
  return out.join('');
}

/** sha256 (hex) of the canonical JSON of `value`. */
export function stableHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function resolve(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON: () => unknown }).toJSON();
  }
  return value;
}

function write(input: unknown, out: string[], seen: Set<object>): boolean {
  const value = resolve(input);
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return true;
    case 'number':
      out.push(Number.isFinite(value) ? JSON.stringify(value) : 'null');
      return true;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return true;
    case 'bigint':
      throw new InvalidArgumentError('value', 'a bigint has no JSON form');
    case 'undefined':
    case 'function':
    case 'symbol':
      return false;
    default:
      break;
  }
  if (value === null) {
    out.push('null');
    return true;
  }
  const obj = value as object;
  if (seen.has(obj)) throw new InvalidArgumentError('value', 'a value with a cycle has no JSON form');
  seen.add(obj);
  if (Array.isArray(obj)) {
    out.push('[');
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out.push(',');
      if (!write(obj[i], out, seen)) out.push('null');
    }
    out.push(']');
  } else {
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    out.push('{');
    let first = true;
    for (const key of keys) {
      const v = resolve(record[key]);
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      out.push(first ? '' : ',', JSON.stringify(key), ':');
      first = false;
      write(v, out, seen);
    }
    out.push('}');
  }
  seen.delete(obj);
  return true;
}
