import { InvalidArgumentError } from '@baton/llm-client';

const MAX_DEPTH = 256;

/**
 * Checks that a caller's value is JSON that survives a round trip unchanged: plain objects,
 * arrays, finite numbers, strings, booleans, null (`undefined` properties are dropped on write, as
 * `JSON.stringify` does). Throws `InvalidArgumentError` naming the path of the first bad value.
 */
export function checkJson(value: unknown, path: string, depth = 0): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentError(path, `expected a finite number, got ${value}`);
      return;
    case 'object': {
      if (value === null) return;
      if (depth >= MAX_DEPTH) throw new InvalidArgumentError(path, `nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) checkJson(value[i], `${path}[${i}]`, depth + 1);
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new InvalidArgumentError(path, `expected JSON, got ${(value as object).constructor?.name ?? 'object'}`);
      }
      for (const [key, v] of Object.entries(value)) if (v !== undefined) checkJson(v, `${path}.${key}`, depth + 1);
      return;
    }
    default:
      throw new InvalidArgumentError(path, `expected JSON, got ${typeof value}`);
  }
}

/** Like `checkJson`, for a value that must be a plain JSON object. */
export function checkJsonObject(value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError(path, 'expected a plain JSON object');
  checkJson(value, path);
}
