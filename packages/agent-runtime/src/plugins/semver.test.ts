import { describe, expect, it } from 'vitest';
import { compareSemver, isValidRange, parseSemver, satisfies } from './semver.js';

describe('semver', () => {
  it('orders versions, prereleases below their release', () => {
    const order = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '2.0.0'];
    for (let i = 1; i < order.length; i++) expect(compareSemver(parseSemver(order[i - 1]!)!, parseSemver(order[i]!)!)).toBe(-1);
    expect(compareSemver(parseSemver('1.2.3+build.5')!, parseSemver('1.2.3')!)).toBe(0);
    expect(parseSemver('1.2')).toBeUndefined();
    expect(parseSemver('01.2.3')).toBeUndefined();
  });

  it.each([
    ['1.2.3', '^1.2.0', true],
    ['1.9.0', '^1.2.0', true],
    ['2.0.0', '^1.2.0', false],
    ['1.1.9', '^1.2.0', false],
    ['0.2.5', '^0.2.3', true],
    ['0.3.0', '^0.2.3', false],
    ['0.0.4', '^0.0.3', false],
    ['1.2.9', '~1.2.0', true],
    ['1.3.0', '~1.2.0', false],
    ['3.0.0', '>=1.0.0', true],
    ['0.9.9', '>=1.0.0', false],
    ['1.2.3', '1.2.3', true],
    ['1.2.4', '=1.2.3', false],
    ['1.5.0', '>=1.0.0 <2.0.0', true],
    ['2.0.0', '>=1.0.0 <2.0.0', false],
    ['3.1.0', '^1.0.0 || ^3.0.0', true],
    ['9.9.9', '*', true],
    ['2.0.0-beta.1', '^1.0.0', false],
    ['2.0.0-beta.1', '>=1.0.0', false],
    ['2.0.0-beta.2', '>=2.0.0-beta.1', true],
  ])('%s in %s: %s', (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  it('refuses ranges it cannot read', () => {
    expect(isValidRange('^1.2')).toBe(false);
    expect(isValidRange('latest')).toBe(false);
    expect(isValidRange('')).toBe(false);
    expect(() => satisfies('nope', '^1.0.0')).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
