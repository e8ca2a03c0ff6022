import { InvalidArgumentError } from '@baton/llm-client';

/**
 * Compiles glob patterns into one matcher. `*` matches any run of characters (dots and slashes
 * included: `fs.*` matches `fs.write`), `?` one character; everything else is literal and
 * case-sensitive. A value matches when any pattern matches it whole.
 */
export function compileGlobs(patterns: readonly string[], name = 'patterns'): (value: string) => boolean {
  if (!Array.isArray(patterns) || patterns.length === 0) throw new InvalidArgumentError(name, 'needs at least one pattern');
  const sources = patterns.map((p, i) => {
    if (typeof p !== 'string' || p.length === 0) throw new InvalidArgumentError(`${name}.${i}`, 'a pattern is a non-empty string');
    return p.split('').map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'))).join('');
  });
  if (patterns.includes('*')) return () => true;
  const re = new RegExp(`^(?:${sources.join('|')})$`, 's');
  return (value) => re.test(value);
}

/** Whether `value` matches `pattern` (see `compileGlobs`). */
export function globMatch(pattern: string, value: string): boolean {
  return compileGlobs([pattern], 'pattern')(value);
}
