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

const generated = new WeakMap<object, FastCheck>();

/**
 * The compiled check of `schema` (compiled once per schema object): generated code where the
 * platform allows it (one function, each field checked inline), else, or with
 * `{ generate: false }`, a tree of closures with the same answers.
 */
export function fastCheckOf(schema: z.ZodType, options: { generate?: boolean } = {}): FastCheck {
  if (options.generate === false) return compile(schema).check;
  let check = generated.get(schema);
  if (!check) generated.set(schema, (check = generate(schema) ?? compile(schema).check));
  return check;
}

/**
 * `schema`'s parse of `value`, returning `value` itself when the compiled check passes and the
 * parser's result otherwise.
 */
export function fastSafeParse<T>(schema: z.ZodType<T>, value: unknown): { success: true; data: T } | { success: false; error: z.ZodError } {
  if (fastCheckOf(schema)(value)) return { success: true, data: value as T };
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
      return Number.isInteger(c.minimum) ? (n) => n >= c.minimum! : undefined;
    case 'max_length':
      return Number.isInteger(c.maximum) ? (n) => n <= c.maximum! : undefined;
    case 'length_equals':
      return Number.isInteger(c.length) ? (n) => n === c.length : undefined;
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

/**
 * The check as one generated function: strings, numbers, booleans, enums, literals, optional
 * and nullable wrappers, objects and arrays inline; unions, lazy and custom schemas call their
 * compiled closures. `undefined` where code cannot be generated (a platform without `Function`).
 */
function generate(schema: z.ZodType): FastCheck | undefined {
  const helpers: unknown[] = [];
  let names = 0;
  const helper = (h: unknown): string => `h[${helpers.push(h) - 1}]`;
  const fail = 'return false;';
  // Code that returns false unless `x` passes `node` unchanged (the closure tree's answer).
  const emit = (node: z.ZodType, x: string): string => {
    const def = defOf(node);
    if (!def || def.coerce) return fail;
    const checks = (def.checks ?? []).map((c) => c._zod.def);
    const callOut = () => `if (!${helper(compile(node).check)}(${x})) ${fail}`;
    switch (def.type) {
      case 'string': {
        let code = `if (typeof ${x} !== 'string') ${fail}`;
        for (const c of checks) {
          if (c.check === 'min_length' && Number.isInteger(c.minimum)) code += `if (${x}.length < ${c.minimum}) ${fail}`;
          else if (c.check === 'max_length' && Number.isInteger(c.maximum)) code += `if (${x}.length > ${c.maximum}) ${fail}`;
          else if (c.check === 'length_equals' && Number.isInteger(c.length)) code += `if (${x}.length !== ${c.length}) ${fail}`;
          else if (c.check === 'string_format' && c.format === 'regex' && c.pattern instanceof RegExp) code += `if (!${helper(stringCheck(c))}(${x})) ${fail}`;
          else return fail;
        }
        return code;
      }
      case 'number': {
        let code = `if (typeof ${x} !== 'number' || !Number.isFinite(${x})) ${fail}`;
        for (const c of checks) {
          if (c.check === 'number_format' && c.format === 'safeint') code += `if (!Number.isSafeInteger(${x})) ${fail}`;
          else if ((c.check === 'greater_than' || c.check === 'less_than') && typeof c.value === 'number' && Number.isFinite(c.value)) {
            const op = c.check === 'greater_than' ? (c.inclusive ? '>=' : '>') : c.inclusive ? '<=' : '<';
            code += `if (!(${x} ${op} ${c.value})) ${fail}`;
          } else return fail;
        }
        return code;
      }
      case 'boolean':
        return checks.length ? fail : `if (typeof ${x} !== 'boolean') ${fail}`;
      case 'null':
        return checks.length ? fail : `if (${x} !== null) ${fail}`;
      case 'unknown':
      case 'any':
        return checks.length ? fail : '';
      case 'literal':
      case 'enum': {
        const values = (node as unknown as { _zod: { values?: ReadonlySet<unknown> } })._zod.values;
        if (!(values instanceof Set) || checks.length) return fail;
        const simple = [...values].every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || v === null);
        if (!simple || values.size > 16) return `if (!${helper(values)}.has(${x})) ${fail}`;
        return `if (${[...values].map((v) => `${x} !== ${JSON.stringify(v)}`).join(' && ')}) ${fail}`;
      }
      case 'optional':
        return checks.length ? fail : `if (${x} !== undefined) { ${emit(def.innerType!, x)} }`;
      case 'nullable':
        return checks.length ? fail : `if (${x} !== null) { ${emit(def.innerType!, x)} }`;
      case 'object': {
        if (def.catchall !== undefined || checks.length) return fail;
        const o = `o${names++}`;
        const shape = def.shape ?? {};
        const keys = Object.keys(shape);
        let code = `if (typeof ${x} !== 'object' || ${x} === null) ${fail} { const p = Object.getPrototypeOf(${x}); if (p !== OP && p !== null) ${fail} } const ${o} = ${x};`;
        for (const key of keys) {
          const field = shape[key]!;
          const f = `f${names++}`;
          const k = JSON.stringify(key);
          code += `const ${f} = ${o}[${k}];`;
          if (defOf(field)?.type !== 'optional') code += `if (${f} === undefined && !(${k} in ${o})) ${fail}`;
          code += emit(field, f);
        }
        const k = `k${names++}`;
        code += keys.length ? `for (const ${k} in ${o}) { switch (${k}) { ${keys.map((key) => `case ${JSON.stringify(key)}:`).join(' ')} break; default: ${fail} } }` : `for (const ${k} in ${o}) ${fail}`;
        return code;
      }
      case 'array': {
        const a = `a${names++}`;
        const i = `i${names++}`;
        const e = `e${names++}`;
        let code = `if (!Array.isArray(${x})) ${fail} const ${a} = ${x};`;
        for (const c of checks) {
          if (c.check === 'min_length' && Number.isInteger(c.minimum)) code += `if (${a}.length < ${c.minimum}) ${fail}`;
          else if (c.check === 'max_length' && Number.isInteger(c.maximum)) code += `if (${a}.length > ${c.maximum}) ${fail}`;
          else if (c.check === 'length_equals' && Number.isInteger(c.length)) code += `if (${a}.length !== ${c.length}) ${fail}`;
          else return fail;
        }
        return `${code} for (let ${i} = 0; ${i} < ${a}.length; ${i}++) { const ${e} = ${a}[${i}]; ${emit(def.element!, e)} }`;
      }
      case 'union':
      case 'lazy':
      case 'custom':
        return callOut();
      default:
        return fail;
    }
  };
  try {
    const body = emit(schema, 'v');
    const make = new Function('h', 'OP', `'use strict'; return function check(v) { ${body} return true; };`) as (h: unknown[], op: object) => FastCheck;
    return make(helpers, Object.prototype);
  } catch {
    return undefined;
  }
}
