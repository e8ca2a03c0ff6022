import type { z } from 'zod';

/**
 * A check compiled from a zod schema that says, without allocating, that a value passes the
 * schema unchanged: `true` only when `schema.parse(value)` would succeed and return a value
 * equal to `value` (no key stripped, nothing defaulted or transformed). `false` says nothing:
 * the caller parses with the schema, which accepts or explains. Schemas or checks it does not
 * know compile to a check that is always `false`, so the schema stays the only definition.
 *
 * The runtime validates every record and event it stores, most of them built by itself; this
 * spares the parser's allocations on those (a zod parse builds an output copy and a payload per
 * field).
 */
export type FastCheck = (value: unknown) => boolean;

const NEVER: FastCheck = () => false;
const compiled = new WeakMap<object, Compiled>();

interface Compiled {
  check: FastCheck;
  /** `false` from `check` means the schema rejects the value (so a union may try its next option). */
  exact: boolean;
}

/** The compiled check of `schema` (compiled once per schema object). */
export function fastCheckOf(schema: z.ZodType): FastCheck {
  return compile(schema).check;
}

/**
 * `schema`'s parse of `value`, returning `value` itself when the compiled check passes and the
 * parser's result otherwise.
 */
export function fastSafeParse<T>(schema: z.ZodType<T>, value: unknown): { success: true; data: T } | { success: false; error: z.ZodError } {
  if (compile(schema).check(value)) return { success: true, data: value as T };
  return schema.safeParse(value) as { success: true; data: T } | { success: false; error: z.ZodError };
}

interface Def {
  type: string;
  checks?: Array<{ _zod: { def: CheckDef } }>;
  coerce?: boolean;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  getter?: () => z.ZodType;
  fn?: (value: unknown) => unknown;
}

interface CheckDef {
  check: string;
  minimum?: number;
  maximum?: number;
  length?: number;
  value?: number;
  inclusive?: boolean;
  format?: string;
  pattern?: RegExp;
}

function defOf(schema: z.ZodType): Def | undefined {
  return (schema as unknown as { _zod?: { def?: Def } })._zod?.def;
}

function compile(schema: z.ZodType): Compiled {
  const known = compiled.get(schema);
  if (known) return known;
  // Recursive schemas (a lazy one refers back): the entry exists before its parts compile.
  const entry: Compiled = { check: NEVER, exact: false };
  compiled.set(schema, entry);
  const made = build(schema);
  entry.check = made.check;
  entry.exact = made.exact;
  return entry;
}

function build(schema: z.ZodType): Compiled {
  const def = defOf(schema);
  if (!def || def.coerce) return { check: NEVER, exact: false };
  const checks = def.checks ?? [];
  switch (def.type) {
    case 'string': {
      const parts = checks.map((c) => stringCheck(c._zod.def));
      if (parts.some((p) => p === undefined)) return { check: NEVER, exact: false };
      const all = parts as Array<(s: string) => boolean>;
      return { check: (v) => typeof v === 'string' && every(all, v), exact: true };
    }
    case 'number': {
      const parts = checks.map((c) => numberCheck(c._zod.def));
      if (parts.some((p) => p === undefined)) return { check: NEVER, exact: false };
      const all = parts as Array<(n: number) => boolean>;
      return { check: (v) => typeof v === 'number' && Number.isFinite(v) && every(all, v), exact: true };
    }
    case 'boolean':
      return checks.length ? { check: NEVER, exact: false } : { check: (v) => typeof v === 'boolean', exact: true };
    case 'null':
      return checks.length ? { check: NEVER, exact: false } : { check: (v) => v === null, exact: true };
    case 'unknown':
    case 'any':
      return checks.length ? { check: NEVER, exact: false } : { check: () => true, exact: true };
    case 'literal':
    case 'enum': {
      // The set of accepted values the schema computed itself (an enum's, a literal's).
      const values = (schema as unknown as { _zod: { values?: ReadonlySet<unknown> } })._zod.values;
      if (!(values instanceof Set) || checks.length) return { check: NEVER, exact: false };
      return { check: (v) => values.has(v), exact: true };
    }
    case 'optional': {
      const inner = compile(def.innerType!);
      return checks.length ? { check: NEVER, exact: false } : { check: (v) => v === undefined || inner.check(v), exact: inner.exact };
    }
    case 'nullable': {
      const inner = compile(def.innerType!);
      return checks.length ? { check: NEVER, exact: false } : { check: (v) => v === null || inner.check(v), exact: inner.exact };
    }
    case 'lazy': {
      const getter = def.getter;
      if (!getter || checks.length) return { check: NEVER, exact: false };
      let target: Compiled | undefined;
      return { check: (v) => (target ??= compile(getter())).check(v), exact: false };
    }
    case 'custom': {
      // `z.custom(fn)`: accepted when `fn` says so, and passed through unchanged.
      const fn = def.fn;
      if (!fn || checks.length) return { check: NEVER, exact: false };
      return { check: (v) => fn(v) === true, exact: false };
    }
    case 'array': {
      const element = compile(def.element!);
      const parts = checks.map((c) => lengthCheck(c._zod.def));
      if (parts.some((p) => p === undefined)) return { check: NEVER, exact: false };
      const all = parts as Array<(n: number) => boolean>;
      return {
        check: (v) => {
          if (!Array.isArray(v) || !every(all, v.length)) return false;
          for (let i = 0; i < v.length; i++) if (!element.check(v[i])) return false;
          return true;
        },
        exact: false,
      };
    }
    case 'object': {
      // Strip mode only (the default): a value with a key the shape lacks would come out without it.
      if (def.catchall !== undefined || checks.length) return { check: NEVER, exact: false };
      const shape = def.shape ?? {};
      const keys = Object.keys(shape);
      const fields = keys.map((k) => compile(shape[k]!));
      // A key may be missing only where its schema is `.optional()` (the parser requires the others, even `unknown`).
      const optional = keys.map((k) => defOf(shape[k]!)?.type === 'optional');
      const known = new Set(keys);
      return {
        check: (v) => {
          // A plain object only: the parser would turn any other (a Date, a class instance) into a plain copy.
          if (typeof v !== 'object' || v === null) return false;
          const proto = Object.getPrototypeOf(v) as unknown;
          if (proto !== Object.prototype && proto !== null) return false;
          const o = v as Record<string, unknown>;
          for (let i = 0; i < keys.length; i++) {
            const key = keys[i]!;
            if (!(key in o) && !optional[i]) return false;
            if (!fields[i]!.check(o[key])) return false;
          }
          // (An inherited enumerable key, never there unless Object.prototype was polluted, only sends the value to the parser.)
          for (const k in o) if (!known.has(k)) return false;
          return true;
        },
        exact: false,
      };
    }
    case 'union': {
      // The parser takes the first option that passes: a later option may only answer for the
      // value when every earlier one is known to reject it.
      const options = (def.options ?? []).map((o) => compile(o));
      if (checks.length || options.length === 0) return { check: NEVER, exact: false };
      return {
        check: (v) => {
          for (let i = 0; i < options.length; i++) {
            const o = options[i]!;
            if (o.check(v)) return true;
            if (!o.exact) return false;
          }
          return false;
        },
        exact: options.every((o) => o.exact),
      };
    }
    default:
      return { check: NEVER, exact: false };
  }
}

/** Whether every predicate holds (a loop: no closure per call). */
function every<T>(predicates: ReadonlyArray<(v: T) => boolean>, v: T): boolean {
  for (let i = 0; i < predicates.length; i++) if (!predicates[i]!(v)) return false;
  return true;
}

function lengthCheck(c: CheckDef): ((n: number) => boolean) | undefined {
  switch (c.check) {
    case 'min_length':
      return typeof c.minimum === 'number' ? (n) => n >= c.minimum! : undefined;
    case 'max_length':
      return typeof c.maximum === 'number' ? (n) => n <= c.maximum! : undefined;
    case 'length_equals':
      return typeof c.length === 'number' ? (n) => n === c.length : undefined;
    default:
      return undefined;
  }
}

function stringCheck(c: CheckDef): ((s: string) => boolean) | undefined {
  const length = lengthCheck(c);
  if (length) return (s) => length(s.length);
  if (c.check === 'string_format' && c.format === 'regex' && c.pattern instanceof RegExp) {
    const pattern = c.pattern;
    return (s) => {
      pattern.lastIndex = 0;
      return pattern.test(s);
    };
  }
  return undefined;
}

function numberCheck(c: CheckDef): ((n: number) => boolean) | undefined {
  switch (c.check) {
    case 'number_format':
      return c.format === 'safeint' ? (n) => Number.isSafeInteger(n) : undefined;
    case 'greater_than':
      if (typeof c.value !== 'number') return undefined;
      return c.inclusive ? (n) => n >= c.value! : (n) => n > c.value!;
    case 'less_than':
      if (typeof c.value !== 'number') return undefined;
      return c.inclusive ? (n) => n <= c.value! : (n) => n < c.value!;
    default:
      return undefined;
  }
}
