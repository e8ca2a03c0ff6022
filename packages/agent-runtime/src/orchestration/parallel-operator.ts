import { InvalidArgumentError } from '@baton/llm-client';
import type { JsonValue } from '../jobs/json-value.js';
import type { OperatorContext } from './operator-context.js';
import { checkOperator, checkOperatorName, checkPositiveInt, sumUsage, type Operator, type OperatorResult } from './operator.js';
import { runConcurrently } from './run-concurrently.js';

/** What an aggregator operator receives. */
export interface AggregateInput<I = unknown> {
  input: I;
  outputs: unknown[];
}

/** Combines the branches' outputs: a function (deterministic), or an operator (e.g. an agent) that gets an `AggregateInput`. */
export type Aggregator<I, O> = ((outputs: unknown[], input: I) => O) | Operator<any, O>;

export interface ParallelOperatorOptions<I, O> {
  name: string;
  /** Each runs on the same input. */
  operators: ReadonlyArray<Operator<any, any>>;
  /** Default: the outputs as an array, in the operators' order. */
  aggregate?: Aggregator<I, O>;
  /** At most this many branches at once (default: all). */
  maxParallel?: number;
  /** A failing branch stops the others (default true). */
  failFast?: boolean;
}

/**
 * Runs operators concurrently on one input, then aggregates their outputs. Branch step ids are
 * reserved in the operators' order before any branch starts, so a resumed job finds every
 * finished branch whatever order the branches finished in.
 */
export class ParallelOperator<I = JsonValue, O = JsonValue> implements Operator<I, O> {
  readonly name: string;
  private readonly operators: ReadonlyArray<Operator<any, any>>;
  private readonly aggregate: Aggregator<I, O> | undefined;
  private readonly maxParallel: number | undefined;
  private readonly failFast: boolean;

  constructor(options: ParallelOperatorOptions<I, O>) {
    this.name = checkOperatorName(options?.name);
    if (!Array.isArray(options.operators) || options.operators.length === 0) throw new InvalidArgumentError('operators', 'needs at least one operator');
    options.operators.forEach((op, i) => checkOperator(op, `operators[${i}]`));
    checkPositiveInt(options.maxParallel, 'maxParallel');
    if (options.aggregate !== undefined && typeof options.aggregate !== 'function') checkOperator(options.aggregate, 'aggregate');
    this.operators = [...options.operators];
    this.aggregate = options.aggregate;
    this.maxParallel = options.maxParallel;
    this.failFast = options.failFast ?? true;
  }

  async execute(input: I, ctx: OperatorContext): Promise<OperatorResult<O>> {
    const ids = ctx.reserveMany(this.operators.length);
    const aggregateId = ctx.reserve();
    const results = await runConcurrently(this.operators.length, (i, signal) => ctx.run(this.operators[i]!, input, { at: ids[i]!, signal }), {
      maxParallel: this.maxParallel,
      signal: ctx.signal,
      failFast: this.failFast,
    });
    const outputs = results.map((r) => r.output);
    const combined = await aggregateOutputs(ctx, this.aggregate, outputs, input, aggregateId);
    return { output: combined.output, usage: sumUsage([...results, combined]), metadata: { branches: results.length } };
  }
}

/** Applies an aggregator: a function directly, an operator as a journaled step at `at`. */
export async function aggregateOutputs<I, O>(ctx: OperatorContext, aggregate: Aggregator<I, O> | undefined, outputs: unknown[], input: I, at: string): Promise<OperatorResult<O>> {
  if (aggregate === undefined) return { output: outputs as O };
  if (typeof aggregate === 'function') return { output: aggregate(outputs, input) };
  return ctx.run(aggregate, { input, outputs }, { at });
}
