import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.js';
import { DEFAULT_PRICES, PriceTable, formatNanoUsd } from './pricing.js';

describe('PriceTable', () => {
  it('computes exact decimal cost, cached input at its own price', () => {
    const table = new PriceTable({ 'openai:gpt-4o': { inputPerMillion: '2.50', outputPerMillion: '10', cachedInputPerMillion: '1.25' } });
    const cost = table.cost('openai', 'gpt-4o', { inputTokens: 1000, cachedInputTokens: 400, outputTokens: 200, totalTokens: 1200 });
    // 600 * 2.5e-6 + 400 * 1.25e-6 + 200 * 1e-5 = 0.0015 + 0.0005 + 0.002
    expect(cost).toEqual({ nanoUsd: 4_000_000, usd: '0.004000000' });
  });

  it('prefers the most specific pattern and lets users extend the table', () => {
    const table = new PriceTable(DEFAULT_PRICES).extend({ 'openai:*': { inputPerMillion: 100, outputPerMillion: 100 } });
    const usage = { inputTokens: 1_000_000, cachedInputTokens: 0, outputTokens: 0, totalTokens: 1_000_000 };
    expect(table.cost('openai', 'gpt-4o-mini-2024', usage)?.usd).toBe('0.150000000');
    expect(table.cost('openai', 'o3', usage)?.usd).toBe('100.000000000');
    expect(table.cost('mistral', 'large', usage)).toBeUndefined();
  });

  it('sums without floating point drift', () => {
    const table = new PriceTable({ 'x:y': { inputPerMillion: '0.1', outputPerMillion: '0.2' } });
    let total = 0;
    for (let i = 0; i < 1000; i++) total += table.cost('x', 'y', { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, totalTokens: 2 })!.nanoUsd;
    expect(formatNanoUsd(total)).toBe('0.000300000');
  });

  it('rejects malformed prices with a typed error', () => {
    expect(() => new PriceTable({ 'a:b': { inputPerMillion: '-1', outputPerMillion: '1' } })).toThrow(InvalidArgumentError);
    expect(() => new PriceTable({ 'a:b': { inputPerMillion: '1.23456', outputPerMillion: '1' } })).toThrow(/at most 3 decimals/);
  });
});
