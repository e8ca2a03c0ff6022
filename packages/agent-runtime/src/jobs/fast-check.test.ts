import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RUNTIME_EVENT_DATA_SCHEMAS } from '../events/runtime-event-data.js';
import { RuntimeEventBaseSchema } from '../events/runtime-event.js';
import { fastCheckOf as fastCheckOfGenerated, fastSafeParse } from './fast-check.js';
import { JobRecordSchema } from './job-record.js';

type Def = { type: string; checks?: Array<{ _zod: { def: { check: string; minimum?: number; value?: number; inclusive?: boolean; format?: string } } }>; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; getter?: () => z.ZodType; fn?: (v: unknown) => unknown };
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def; values?: Set<unknown> } })._zod;

/** A value the schema accepts, built from its definition (every optional field present). */
function sample(schema: z.ZodType, depth = 0): unknown {
  const { def, values } = defOf(schema);
  switch (def.type) {
    case 'string': {
      const regex = def.checks?.find((c) => c._zod.def.check === 'string_format');
      return regex ? '12.5' : 'abc';
    }
    case 'number': {
      const int = def.checks?.some((c) => c._zod.def.format === 'safeint');
      return int ? 3 : 2.5;
    }
    case 'boolean':
      return true;
    case 'literal':
    case 'enum':
      return [...values!][0];
    case 'optional':
    case 'nullable':
      return sample(def.innerType!, depth);
    case 'object':
      return Object.fromEntries(Object.entries(def.shape!).map(([k, v]) => [k, sample(v, depth + 1)]));
    case 'array':
      return [sample(def.element!, depth + 1)];
    case 'union':
      return sample(def.options![0]!, depth);
    case 'lazy':
      return sample(def.getter!(), depth);
    case 'custom':
      return [{ a: 1 }, 'x', 1, null].find((v) => def.fn!(v) === true);
    default:
      return null;
  }
}

const ODD: unknown[] = [undefined, null, '', 'x', '12.5', -1, 0, 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, true, [], {}, { a: 1 }, [1], new Date(0)];

/** The sample, then for each field at each level: removed, replaced by each odd value, and an extra key. */
function variants(value: unknown): unknown[] {
  const out: unknown[] = [value, ...ODD];
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    out.push({ ...o, extra: 1 });
    for (const key of Object.keys(o)) {
      const { [key]: _dropped, ...rest } = o;
      out.push(rest);
      for (const odd of ODD) out.push({ ...o, [key]: odd });
      for (const inner of variants(o[key]).slice(ODD.length + 1)) out.push({ ...o, [key]: inner });
    }
  }
  if (Array.isArray(value)) {
    out.push([...value, ...value], value.map(() => undefined));
  }
  return out;
}

let generate = true;
const fastCheckOf = (schema: z.ZodType) => fastCheckOfGenerated(schema, { generate });

/** Whenever the compiled check says yes, the parser accepts the value and returns it unchanged. */
function agrees(schema: z.ZodType, values: unknown[]): { fast: number } {
  let fast = 0;
  for (const v of values) {
    if (!fastCheckOf(schema)(v)) continue;
    fast++;
    const parsed = schema.safeParse(v);
    expect(parsed.success, `parser rejects ${JSON.stringify(v)}`).toBe(true);
    // Equal as JSON: a key holding `undefined` may come out missing.
    expect(parsed.data).toEqual(v);
  }
  return { fast };
}

describe.each([
  ['generated code', true],
  ['closures', false],
])('fastCheckOf (%s)', (_name, mode) => {
  beforeEach(() => {
    generate = mode;
  });

  it('never says yes where the event data schemas reject or change a value, and says yes to their valid samples', () => {
    for (const [type, schema] of Object.entries(RUNTIME_EVENT_DATA_SCHEMAS)) {
      const valid = sample(schema);
      expect(fastCheckOf(schema)(valid), type).toBe(true);
      const { fast } = agrees(schema, variants(valid));
      expect(fast).toBeGreaterThan(0);
    }
  });

  it('agrees with the event envelope and job record schemas', () => {
    for (const schema of [RuntimeEventBaseSchema, JobRecordSchema] as z.ZodType[]) {
      const valid = sample(schema);
      expect(schema.safeParse(valid).success).toBe(true);
      expect(fastCheckOf(schema)(valid)).toBe(true);
      agrees(schema, variants(valid));
    }
  });

  it('says no to what it cannot vouch for: extra keys, defaults, transforms, refinements, coercion, loose and strict objects', () => {
    const cases: Array<[z.ZodType, unknown]> = [
      [z.object({ a: z.string() }), { a: 'x', b: 1 }],
      [z.object({ a: z.string().default('d') }), {}],
      [z.string().transform((s) => s.toUpperCase()), 'x'],
      [z.string().refine((s) => s.length > 0), 'x'],
      [z.coerce.number(), 1],
      [z.looseObject({ a: z.string() }), { a: 'x' }],
      [z.strictObject({ a: z.string() }), { a: 'x' }],
      [z.string().email(), 'a@b.co'],
      [z.date(), new Date(0)],
    ];
    for (const [schema, value] of cases) expect(fastCheckOf(schema)(value)).toBe(false);
  });

  it('in a union, answers through a later option only when every earlier one surely rejects', () => {
    const strip = z.union([z.object({ a: z.string() }), z.object({ a: z.string(), b: z.number() })]);
    // The parser would take the first option and drop `b`: the check must not vouch for the value.
    expect(fastCheckOf(strip)({ a: 'x', b: 1 })).toBe(false);
    expect(strip.parse({ a: 'x', b: 1 })).toEqual({ a: 'x' });
    const scalars = z.union([z.number().int(), z.string().min(2)]);
    expect(fastCheckOf(scalars)('ab')).toBe(true);
    expect(fastCheckOf(scalars)('a')).toBe(false);
    agrees(scalars, ODD);
  });

  it('checks numbers as the parser does: finite, safe integers, bounds', () => {
    const n = z.number().int().positive().lte(10);
    for (const v of [1, 10, 0, 11, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -1, '1']) expect(fastCheckOf(n)(v)).toBe(n.safeParse(v).success);
    expect(fastCheckOf(z.number())(Number.POSITIVE_INFINITY)).toBe(false);
  });

  it('handles recursive schemas', () => {
    type Tree = { name: string; children: Tree[] };
    const tree: z.ZodType<Tree> = z.lazy(() => z.object({ name: z.string(), children: z.array(tree) }));
    expect(fastCheckOf(tree)({ name: 'a', children: [{ name: 'b', children: [] }] })).toBe(true);
    expect(fastCheckOf(tree)({ name: 'a', children: [{ name: 1, children: [] }] })).toBe(false);
  });

  it('fastSafeParse returns the value itself on the fast path and the parser result otherwise', () => {
    const schema = z.object({ a: z.string() });
    const value = { a: 'x' };
    const fast = fastSafeParse(schema, value);
    expect(fast.success && fast.data).toBe(value);
    const slow = fastSafeParse(schema, { a: 'x', b: 2 });
    expect(slow.success && slow.data).toEqual({ a: 'x' });
    expect(fastSafeParse(schema, { a: 1 }).success).toBe(false);
  });
});

describe('fastCheckOf: generated code and closures', () => {
  it('give the same answer on every value tried', () => {
    const schemas: z.ZodType[] = [...Object.values(RUNTIME_EVENT_DATA_SCHEMAS), RuntimeEventBaseSchema, JobRecordSchema];
    let yes = 0;
    for (const schema of schemas) {
      const generated = fastCheckOfGenerated(schema);
      const closures = fastCheckOfGenerated(schema, { generate: false });
      for (const v of variants(sample(schema))) {
        expect(generated(v), JSON.stringify(v)).toBe(closures(v));
        if (generated(v)) yes++;
      }
    }
    expect(yes).toBeGreaterThan(100);
  });
});
