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

  it('keeps deeply frozen JSON as it is, and copies anything that could still change or is not what a copy would be', () => {
    const frozen = toFrozenJson({ a: [1, { b: 'x' }], c: null }, 'v');
    expect(toFrozenJson(frozen, 'v')).toBe(frozen);
    // Frozen at the top only: the inner array could still change, so it is copied.
    const shallow = Object.freeze({ list: [1, 2] });
    const copied = toFrozenJson(shallow, 'v') as { list: number[] };
    expect(copied).not.toBe(shallow);
    shallow.list.push(3);
    expect(copied.list).toEqual([1, 2]);
    // A frozen object holding undefined comes out without that key, as a copy.
    const holey = Object.freeze({ a: 1, b: undefined });
    expect(toFrozenJson(holey, 'v')).not.toBe(holey);
    expect(toFrozenJson(holey, 'v')).toEqual({ a: 1 });
    // Frozen but not JSON: refused as before.
    expect(() => toFrozenJson(Object.freeze({ d: Object.freeze(new Date(0)) }), 'v')).toThrow(InvalidArgumentError);
    expect(() => toFrozenJson(Object.freeze([Number.NaN]), 'v')).toThrow(InvalidArgumentError);
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
