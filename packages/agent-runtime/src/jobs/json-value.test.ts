import { InvalidArgumentError } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { toFrozenJson, toFrozenJsonObject } from './json-value.js';

describe('toFrozenJson', () => {
  it('copies and deeply freezes JSON, dropping undefined properties', () => {
    const input = { a: [1, { b: 'x' }], c: null, d: undefined, e: true };
    const out = toFrozenJson(input, 'v') as { a: [number, { b: string }] };
    expect(out).toEqual({ a: [1, { b: 'x' }], c: null, e: true });
    expect(out).not.toBe(input);
    expect(Object.isFrozen(out) && Object.isFrozen(out.a) && Object.isFrozen(out.a[1])).toBe(true);
    input.a.push(2);
    expect(out.a).toHaveLength(2);
  });

  it.each([
    ['a function', { f: () => 1 }, 'v.f'],
    ['NaN', { n: [Number.NaN] }, 'v.n[0]'],
    ['Infinity', Number.POSITIVE_INFINITY, 'v'],
    ['a Date', { d: new Date(0) }, 'v.d'],
    ['a Map', new Map(), 'v'],
    ['a bigint', 1n, 'v'],
  ])('rejects %s, naming the path', (_name, value, path) => {
    const error = (() => {
      try {
        toFrozenJson(value, 'v');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe(path);
  });

  it('rejects cycles', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toFrozenJson(cyclic, 'v')).toThrow(/cyclic/);
  });

  it('requires an object where one is expected', () => {
    expect(() => toFrozenJsonObject([1], 'values')).toThrow(InvalidArgumentError);
    expect(toFrozenJsonObject({ a: 1 }, 'values')).toEqual({ a: 1 });
  });
});
