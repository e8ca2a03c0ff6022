import { InvalidArgumentError } from '@baton/llm-client';
import { NoRouteError } from '../errors/orchestration-errors.js';
import type { JsonValue } from '../jobs/json-value.js';
import type { OperatorContext } from './operator-context.js';
import { checkOperator, checkOperatorName, sumUsage, type Operator, type OperatorResult } from './operator.js';

/** A rule: the first whose `when` holds picks its route (checked before any classifier). */
export interface RouteRule<I> {
  route: string;
  when: (input: I) => boolean;
}

export interface RouterOptions<I> {
  name: string;
  routes: Readonly<Record<string, Operator<any, any>>>;
  rules?: ReadonlyArray<RouteRule<I>>;
  /** Classifies inputs no rule matched; its output names a route (see `parseRoute`). `modelClassifier` builds one. */
  classifier?: Operator<any, any>;
  /** The route when no rule matches and the classifier names no known route. */
  fallback?: string;
  /** Reads a route name from the classifier's output; default: `{ route }` or text, matched case-insensitively. */
  parseRoute?: (output: unknown, routes: readonly string[]) => string | undefined;
}

/**
 * Routes an input to one of several operators: by rules first, then by a classifier (a model
 * or any operator), then to the fallback route. The classification is a journaled step, so a
 * resumed job takes the same route without asking the model again.
 */
export class Router<I = JsonValue, O = JsonValue> implements Operator<I, O> {
  readonly name: string;
  private readonly routes: ReadonlyMap<string, Operator<any, any>>;
  private readonly options: RouterOptions<I>;

  constructor(options: RouterOptions<I>) {
    this.name = checkOperatorName(options?.name);
    if (typeof options.routes !== 'object' || options.routes === null || Object.keys(options.routes).length === 0) throw new InvalidArgumentError('routes', 'a router needs at least one route');
    const routes = new Map<string, Operator<any, any>>();
    for (const [route, op] of Object.entries(options.routes)) {
      checkOperator(op, `routes.${route}`);
      routes.set(route, op);
    }
    (options.rules ?? []).forEach((rule, i) => {
      if (!routes.has(rule?.route)) throw new InvalidArgumentError(`rules[${i}].route`, `names no route of router '${this.name}'`);
      if (typeof rule.when !== 'function') throw new InvalidArgumentError(`rules[${i}].when`, 'must be a function (input) => boolean');
    });
    if (options.fallback !== undefined && !routes.has(options.fallback)) throw new InvalidArgumentError('fallback', `names no route of router '${this.name}'`);
    if (options.classifier !== undefined) checkOperator(options.classifier, 'classifier');
    this.routes = routes;
    this.options = { ...options };
  }

  /** The route names, in declaration order. */
  get routeNames(): string[] {
    return [...this.routes.keys()];
  }

  async execute(input: I, ctx: OperatorContext): Promise<OperatorResult<O>> {
    let route: string | undefined;
    let via: 'rule' | 'classifier' | 'fallback' = 'rule';
    let classified: OperatorResult<unknown> | undefined;
    let label: string | undefined;
    for (const rule of this.options.rules ?? []) {
      if (rule.when(input)) {
        route = rule.route;
        break;
      }
    }
    if (route === undefined && this.options.classifier) {
      classified = await ctx.run(this.options.classifier, input);
      label = typeof classified.output === 'string' ? classified.output : JSON.stringify(classified.output);
      route = (this.options.parseRoute ?? parseRoute)(classified.output, this.routeNames);
      via = 'classifier';
      if (route !== undefined && !this.routes.has(route)) route = undefined;
    }
    if (route === undefined) {
      if (this.options.fallback === undefined) throw new NoRouteError(this.name, label);
      route = this.options.fallback;
      via = 'fallback';
    }
    const result = await ctx.run(this.routes.get(route)!, input);
    return { output: result.output as O, usage: sumUsage([classified, result]), metadata: { route, via } };
  }
}

/** Reads a route from a classifier's output: `{ route }`, or text naming one route (case-insensitive, punctuation ignored). */
export function parseRoute(output: unknown, routes: readonly string[]): string | undefined {
  if (typeof output === 'object' && output !== null && typeof (output as { route?: unknown }).route === 'string') return parseRoute((output as { route: string }).route, routes);
  if (typeof output !== 'string') return undefined;
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9_-]+/g, ' ').trim();
  const text = norm(output);
  const exact = routes.find((r) => norm(r) === text);
  if (exact) return exact;
  const words = new Set(text.split(' '));
  const named = routes.filter((r) => words.has(norm(r)));
  return named.length === 1 ? named[0] : undefined;
}

export interface ModelClassifierOptions {
  name?: string;
  /** Route name → what it is for (shown to the model). */
  routes: Readonly<Record<string, string>>;
  /** Default: the kernel engine's model. */
  model?: string;
  instructions?: string;
}

/** A classifier operator that asks the job's model (through the kernel's engine) to name a route. */
export function modelClassifier<I = JsonValue>(options: ModelClassifierOptions): Operator<I, string> {
  const name = checkOperatorName(options?.name ?? 'classifier');
  if (typeof options.routes !== 'object' || options.routes === null || Object.keys(options.routes).length === 0) throw new InvalidArgumentError('routes', 'needs at least one route');
  const list = Object.entries(options.routes)
    .map(([route, description]) => `- ${route}: ${description}`)
    .join('\n');
  const system = `${options.instructions ?? 'Classify the request into exactly one route.'}\nRoutes:\n${list}\nAnswer with the route name only.`;
  return {
    name,
    async execute(input: I, ctx: OperatorContext): Promise<OperatorResult<string>> {
      const content = typeof input === 'string' ? input : JSON.stringify(input ?? null);
      const response = await ctx.callModel(
        { ...(options.model ? { model: options.model } : {}), messages: [{ role: 'system', content: system }, { role: 'user', content }] },
        { name: `classify:${name}` },
      );
      return { output: response.text.trim(), usage: { inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens, totalTokens: response.usage.totalTokens } };
    },
  };
}
