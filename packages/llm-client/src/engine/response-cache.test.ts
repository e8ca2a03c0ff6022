import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { ModelResponse } from '../types/model.js';
import { InMemoryResponseCache } from './response-cache.js';

const answer = (text: string): ModelResponse => ({
  text,
  toolCalls: [],
  finishReason: 'stop',
  usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, totalTokens: 2 },
  provider: 'p',
  model: 'm',
});

describe('InMemoryResponseCache', () => {
  it('expires entries after their TTL', () => {
    let t = 0;
    const cache = new InMemoryResponseCache({ ttlMs: 100, now: () => t });
    cache.set('a', answer('A'));
    cache.set('b', answer('B'), 500);
    t = 99;
    expect(cache.get('a')?.text).toBe('A');
    t = 100;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.text).toBe('B');
  });

  it('evicts the least recently used entry past maxEntries', () => {
    const cache = new InMemoryResponseCache({ maxEntries: 2 });
    cache.set('a', answer('A'));
    cache.set('b', answer('B'));
    cache.get('a');
    cache.set('c', answer('C'));
    expect([cache.get('a')?.text, cache.get('b'), cache.get('c')?.text]).toEqual(['A', undefined, 'C']);
    expect(cache.size).toBe(2);
  });

  it('hands out copies, so a caller cannot change what is stored', () => {
    const cache = new InMemoryResponseCache();
    cache.set('a', answer('A'));
    const got = cache.get('a') as ModelResponse;
    got.text = 'changed';
    expect(cache.get('a')?.text).toBe('A');
  });

  it('rejects bad options', () => {
    expect(() => new InMemoryResponseCache({ maxEntries: 0 })).toThrow(InvalidArgumentError);
    expect(() => new InMemoryResponseCache({ ttlMs: 0 })).toThrow(InvalidArgumentError);
  });
});
