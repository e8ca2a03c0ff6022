import { InvalidArgumentError } from '@baton/llm-client';
import { z } from 'zod';

/** A value that survives a JSON round trip unchanged: what jobs, journals and events store. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

const MAX_DEPTH = 256;

/**
 * Whether `value` is JSON: plain objects and arrays of strings, finite numbers, booleans and
 * null (`undefined` object properties allowed, as `JSON.stringify` drops them). A plain walk,
 * several times faster than a schema union, because every stored record goes through it.
 */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  return walkJson(value, depth, false);
}

/**
 * The walk of `isJsonValue`; with `frozen`, also whether `copy` would return the value equal:
 * every object and array frozen, no property holding `undefined` (a copy drops those).
 */
function walkJson(value: unknown, depth: number, frozen: boolean): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_DEPTH || (frozen && !Object.isFrozen(value))) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!walkJson(value[i], depth + 1, frozen)) return false;
        return true;
      }
      if (!isPlainObject(value)) return false;
      for (const key in value) {
        const v = value[key];
        if (v === undefined) {
          if (frozen) return false;
        } else if (!walkJson(v, depth + 1, frozen)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Any JSON value (finite numbers only). */
export const JsonValueSchema: z.ZodType<JsonValue> = z.custom<JsonValue>((v) => isJsonValue(v), { message: 'expected a JSON value' });
/** A plain object of JSON values. */
export const JsonObjectSchema: z.ZodType<JsonObject> = z.custom<JsonObject>((v) => isPlainObject(v) && isJsonValue(v), {
  message: 'expected a plain object of JSON values',
});

/**
 * Copies a caller's value into an immutable JSON value in one pass: checks that it is JSON
 * (plain objects, arrays, finite numbers, strings, booleans, null; `undefined` object
 * properties are dropped as `JSON.stringify` does) and freezes the copy, so that stores can
 * hand the same object to every reader without a clone. Throws `InvalidArgumentError` naming
 * the path of the first bad value.
 */
export function toFrozenJson(value: unknown, path: string): JsonValue {
  // Deeply frozen JSON (a copy this function made, handed from a run to its store or from the
  // runtime to its bus) cannot change: it is kept as it is, checked by a walk that allocates nothing.
  if (typeof value === 'object' && value !== null && Object.isFrozen(value) && walkJson(value, 0, true)) return value as JsonValue;
  try {
    return copy(value, 0);
  } catch (error) {
    if (error instanceof BadJson) throw new InvalidArgumentError(path + error.path.join(''), error.reason);
    throw error;
  }
}

/** Like `toFrozenJson`, for a JSON object (a record's `metadata`, shared data). */
export function toFrozenJsonObject(value: unknown, path: string): JsonObject {
  if (!isPlainObject(value)) throw new InvalidArgumentError(path, `expected a plain JSON object, got ${describe(value)}`);
  return toFrozenJson(value, path) as JsonObject;
}

/** Checks that `value` is a JSON object without copying it: throws `toFrozenJsonObject`'s error (naming the first bad value) when it is not. */
export function checkJsonObject(value: unknown, path: string): void {
  if (!(isPlainObject(value) && isJsonValue(value))) toFrozenJsonObject(value, path);
}

/** Thrown inside the walk; each level adds its key on the way out, so paths cost nothing on success. */
class BadJson {
  readonly path: string[] = [];
  constructor(readonly reason: string) {}
}

function copy(value: unknown, depth: number): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new BadJson(`expected a finite number, got ${value}`);
      return value;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_DEPTH) throw new BadJson(`nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
      if (Array.isArray(value)) {
        const out: JsonValue[] = new Array<JsonValue>(value.length);
        let i = 0;
        try {
          for (; i < value.length; i++) out[i] = copy(value[i], depth + 1);
        } catch (error) {
          if (error instanceof BadJson) error.path.unshift(`[${i}]`);
          throw error;
        }
        return Object.freeze(out) as JsonValue[];
      }
      if (!isPlainObject(value)) throw new BadJson(`expected JSON, got ${describe(value)}`);
      const out: JsonObject = {};
      const keys = Object.keys(value);
      let key = '';
      try {
        for (let i = 0; i < keys.length; i++) {
          key = keys[i] as string;
          const v = value[key];
          if (v !== undefined) out[key] = copy(v, depth + 1);
        }
      } catch (error) {
        if (error instanceof BadJson) error.path.unshift(`.${key}`);
        throw error;
      }
      return Object.freeze(out);
    }
    default:
      throw new BadJson(`expected JSON, got ${describe(value)}`);
  }
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
