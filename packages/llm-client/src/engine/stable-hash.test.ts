import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { canonicalJson, stableHash } from './stable-hash.js';
import { requestHash } from './request-key.js';

describe('canonicalJson and stableHash', () => {
  it('sorts keys at every depth and follows JSON for the rest', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined, 'x'], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[1,null,"x"]},"b":1}');
    expect(canonicalJson({ n: Number.NaN, d: new Date(0) })).toBe('{"d":"1970-01-01T00:00:00.000Z","n":null}');
    expect(canonicalJson('é"\n')).toBe(JSON.stringify('é"\n'));
  });

  it('gives the same sha256 for equal values however their keys were ordered', () => {
    expect(stableHash({ a: 1, b: [1, 2] })).toBe(stableHash({ b: [1, 2], a: 1 }));
    expect(stableHash({ a: 1 })).not.toBe(stableHash({ a: 2 }));
    expect(stableHash({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects cycles and bigints', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(InvalidArgumentError);
    expect(() => canonicalJson({ n: 1n })).toThrow(InvalidArgumentError);
  });

  it('hashes the normalized request: provider and model included, empty optionals ignored', () => {
    const target = { provider: 'p', model: 'm' };
    const base = { messages: [{ role: 'user' as const, content: 'hi' }] };
    expect(requestHash({ ...base, tools: [], stop: [] }, target)).toBe(requestHash(base, target));
    expect(requestHash(base, { provider: 'p', model: 'other' })).not.toBe(requestHash(base, target));
    expect(requestHash({ ...base, providerOptions: { p: { x: 1 } } }, target)).not.toBe(requestHash(base, target));
  });
});
