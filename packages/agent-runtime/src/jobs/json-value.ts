import { InvalidArgumentError } from '@baton/llm-client';
import { z } from 'zod';

/** A value that survives a JSON round trip unchanged: what jobs, journals and events store. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Any JSON value (finite numbers only). */
export const JsonValueSchema: z.ZodType<JsonValue> = z.json() as z.ZodType<JsonValue>;
export const JsonObjectSchema: z.ZodType<JsonObject> = z.record(z.string(), JsonValueSchema);

const MAX_DEPTH = 256;
/** Values this module produced: already copied, checked and frozen, so reused as they are. */
const frozen = new WeakSet<object>();

/**
 * Copies a caller's value into an immutable JSON value in one pass: checks that it is JSON
 * (plain objects, arrays, finite numbers, strings, booleans, null; `undefined` object
 * properties are dropped as `JSON.stringify` does) and freezes the copy, so that stores can
 * hand the same object to every reader without a clone. Values it produced before are
 * returned as they are. Throws `InvalidArgumentError` naming the path of the first bad value.
 */
export function toFrozenJson(value: unknown, path: string): JsonValue {
  return copy(value, path, 0);
}

/** Like `toFrozenJson`, for a JSON object (a record's `metadata`, shared data). */
export function toFrozenJsonObject(value: unknown, path: string): JsonObject {
  if (!isPlainObject(value)) throw new InvalidArgumentError(path, `expected a plain JSON object, got ${describe(value)}`);
  return copy(value, path, 0) as JsonObject;
}

function copy(value: unknown, path: string, depth: number): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentError(path, `expected a finite number, got ${value}`);
      return value;
    case 'object': {
      if (value === null) return null;
      if (frozen.has(value)) return value as JsonValue;
      if (depth >= MAX_DEPTH) throw new InvalidArgumentError(path, `nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
      if (Array.isArray(value)) {
        const out: JsonValue[] = new Array<JsonValue>(value.length);
        for (let i = 0; i < value.length; i++) out[i] = copy(value[i], `${path}[${i}]`, depth + 1);
        return seal(out);
      }
      if (!isPlainObject(value)) throw new InvalidArgumentError(path, `expected JSON, got ${describe(value)}`);
      const out: JsonObject = {};
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined) continue;
        out[key] = copy(v, `${path}.${key}`, depth + 1);
      }
      return seal(out);
    }
    default:
      throw new InvalidArgumentError(path, `expected JSON, got ${describe(value)}`);
  }
}

function seal<T extends object>(value: T): T {
  Object.freeze(value);
  frozen.add(value);
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
