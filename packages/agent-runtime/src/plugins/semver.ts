import { InvalidArgumentError } from '@baton/llm-client';

/** A parsed semantic version (build metadata dropped: it never affects precedence). */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: Array<string | number>;
}

const VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function parseSemver(version: string): SemVer | undefined {
  const m = VERSION.exec(typeof version === 'string' ? version.trim() : '');
  if (!m) return undefined;
  const prerelease = m[4] ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [];
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease };
}

export function isValidSemver(version: string): boolean {
  return parseSemver(version) !== undefined;
}

/** Precedence as in semver 2.0: -1, 0 or 1. */
export function compareSemver(a: SemVer, b: SemVer): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  // A release ranks above its prereleases.
  if (a.prerelease.length === 0 && b.prerelease.length === 0) return 0;
  if (a.prerelease.length === 0) return 1;
  if (b.prerelease.length === 0) return -1;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

type Op = '>=' | '>' | '<=' | '<' | '=';
interface Comparator {
  op: Op;
  version: SemVer;
}

/**
 * Whether `version` is in `range`. Supported forms: exact (`1.2.3`, `=1.2.3`), `^1.2.3`,
 * `~1.2.3`, `>=`/`>`/`<=`/`<` with a full version, `*`, several of them separated by spaces
 * (all must hold), and alternatives separated by `||`. As in npm, a prerelease version only
 * satisfies a range that names a prerelease of the same major.minor.patch.
 * Throws `InvalidArgumentError` on a range it cannot read.
 */
export function satisfies(version: string, range: string): boolean {
  const v = parseSemver(version);
  if (!v) throw new InvalidArgumentError('version', `'${version}' is not a semantic version`);
  return parseRange(range).some((set) => set.every((c) => test(v, c)) && prereleaseAllowed(v, set));
}

export function isValidRange(range: string): boolean {
  try {
    parseRange(range);
    return true;
  } catch {
    return false;
  }
}

function parseRange(range: string): Comparator[][] {
  if (typeof range !== 'string' || range.trim() === '') throw new InvalidArgumentError('range', 'a version range is required');
  return range.split('||').map((alternative) => {
    const parts = alternative.trim().split(/\s+/).filter(Boolean);
    if (parts.length === 0) throw new InvalidArgumentError('range', `'${range}' has an empty alternative`);
    return parts.flatMap((part) => expand(part, range));
  });
}

function expand(part: string, range: string): Comparator[] {
  if (part === '*' || part === 'x') return [];
  const m = /^(\^|~|>=|<=|>|<|=)?(.+)$/.exec(part);
  const v = m ? parseSemver(m[2]!) : undefined;
  if (!m || !v) throw new InvalidArgumentError('range', `cannot read '${part}' in '${range}'`);
  const op = m[1];
  const at = (major: number, minor: number, patch: number): SemVer => ({ major, minor, patch, prerelease: [] });
  switch (op) {
    case '^': {
      const upper = v.major > 0 ? at(v.major + 1, 0, 0) : v.minor > 0 ? at(0, v.minor + 1, 0) : at(0, 0, v.patch + 1);
      return [{ op: '>=', version: v }, { op: '<', version: upper }];
    }
    case '~':
      return [{ op: '>=', version: v }, { op: '<', version: at(v.major, v.minor + 1, 0) }];
    case undefined:
    case '=':
      return [{ op: '=', version: v }];
    default:
      return [{ op: op as Op, version: v }];
  }
}

function test(v: SemVer, c: Comparator): boolean {
  const cmp = compareSemver(v, c.version);
  switch (c.op) {
    case '=':
      return cmp === 0;
    case '>=':
      return cmp >= 0;
    case '>':
      return cmp > 0;
    case '<=':
      return cmp <= 0;
    case '<':
      return cmp < 0;
  }
}

function prereleaseAllowed(v: SemVer, set: Comparator[]): boolean {
  if (v.prerelease.length === 0) return true;
  return set.some((c) => c.version.prerelease.length > 0 && c.version.major === v.major && c.version.minor === v.minor && c.version.patch === v.patch);
}
