import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.js';

describe('backoffDelayMs', () => {
  it('doubles from the base, caps at the maximum, and keeps half of each delay fixed', () => {
    const at = (attempt: number, random: number) => backoffDelayMs(attempt, { baseMs: 3_000, maxMs: 60_000, random: () => random });
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => at(a, 1))).toEqual([3_000, 6_000, 12_000, 24_000, 48_000, 60_000, 60_000]);
    expect([1, 2, 3].map((a) => at(a, 0))).toEqual([1_500, 3_000, 6_000]);
    expect(at(2, 0.5)).toBe(4_500);
  });
});
