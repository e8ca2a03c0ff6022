import { InvalidArgumentError } from '@baton/llm-client';
import type { JsonValue } from '../jobs/json-value.js';
import type { OperatorContext } from './operator-context.js';
import { checkOperator, checkOperatorName, checkPositiveInt, sumUsage, type Operator, type OperatorResult } from './operator.js';
import { aggregateOutputs, type Aggregator } from './parallel-operator.js';
import { runConcurrently } from './run-concurrently.js';

export interface MapReduceOperatorOptions<I, O> {
  name: string;
  /** Runs once per item. */
  mapper: Operator<any, any>;
  /** Combines the mapped outputs (in item order); default: the array of them. */
  reducer?: Aggregator<I, O>;
  /** The items of an input; default: the input itself, which must be an array. */
  items?: (input: I) => readonly unknown[];
  /** At most this many items mapped at once (default 4). */
  maxParallel?: number;
  failFast?: boolean;
}

/**
 * Maps an operator over the items of its input, at most `maxParallel` at a time, then reduces
 * the outputs. Each item's step id is its index, so a resumed job maps only unfinished items.
 */
export class MapReduceOperator<I = JsonValue, O = JsonValue> implements Operator<I, O> {
  readonly name: string;
  private readonly options: MapReduceOperatorOptions<I, O>;

  constructor(options: MapReduceOperatorOptions<I, O>) {
    this.name = checkOperatorName(options?.name);
    checkOperator(options.mapper, 'mapper');
    if (options.reducer !== undefined && typeof options.reducer !== 'function') checkOperator(options.reducer, 'reducer');
    if (options.items !== undefined && typeof options.items !== 'function') throw new InvalidArgumentError('items', 'must be a function (input) => items');
    checkPositiveInt(options.maxParallel, 'maxParallel');
    this.options = { ...options };
  }

  async execute(input: I, ctx: OperatorContext): Promise<OperatorResult<O>> {
    const items = this.options.items ? this.options.items(input) : input;
    if (!Array.isArray(items)) throw new InvalidArgumentError('input', `map-reduce '${this.name}' needs an array of items (or an items function)`);
    const ids = ctx.reserveMany(items.length);
    const reduceId = ctx.reserve();
    const mapped = await runConcurrently(items.length, (i, signal) => ctx.run(this.options.mapper, items[i], { at: ids[i]!, signal }), {
      maxParallel: this.options.maxParallel ?? 4,
      signal: ctx.signal,
      failFast: this.options.failFast ?? true,
    });
    const reduced = await aggregateOutputs(ctx, this.options.reducer, mapped.map((r) => r.output), input, reduceId);
    return { output: reduced.output, usage: sumUsage([...mapped, reduced]), metadata: { items: items.length } };
  }
}
