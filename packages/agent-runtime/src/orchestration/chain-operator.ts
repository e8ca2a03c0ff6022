import { InvalidArgumentError } from '@baton/llm-client';
import type { JsonValue } from '../jobs/json-value.js';
import type { OperatorContext } from './operator-context.js';
import { checkOperator, checkOperatorName, sumUsage, type Operator, type OperatorResult } from './operator.js';

export interface ChainOperatorOptions {
  name: string;
  /** Run in order; each one's output is the next one's input. */
  operators: ReadonlyArray<Operator<any, any>>;
  /** Turns an operator's output into the next operator's input (default: as is). */
  between?: (output: unknown, index: number, input: unknown) => unknown;
}

/**
 * Runs operators one after another, each on the previous one's output. Each stage is a
 * journaled step: a job resumed after stage 2 paused does not run stage 1 again.
 */
export class ChainOperator<I = JsonValue, O = JsonValue> implements Operator<I, O> {
  readonly name: string;
  private readonly operators: ReadonlyArray<Operator<any, any>>;
  private readonly between: ChainOperatorOptions['between'];

  constructor(options: ChainOperatorOptions) {
    this.name = checkOperatorName(options?.name);
    if (!Array.isArray(options.operators) || options.operators.length === 0) throw new InvalidArgumentError('operators', 'a chain needs at least one operator');
    options.operators.forEach((op, i) => checkOperator(op, `operators[${i}]`));
    if (options.between !== undefined && typeof options.between !== 'function') throw new InvalidArgumentError('between', 'must be a function');
    this.operators = [...options.operators];
    this.between = options.between;
  }

  async execute(input: I, ctx: OperatorContext): Promise<OperatorResult<O>> {
    let current: unknown = input;
    const results: Array<OperatorResult<unknown>> = [];
    for (let i = 0; i < this.operators.length; i++) {
      const result = await ctx.run(this.operators[i]!, current);
      results.push(result);
      current = i < this.operators.length - 1 && this.between ? this.between(result.output, i, input) : result.output;
    }
    return { output: current as O, usage: sumUsage(results), metadata: { stages: results.length } };
  }
}
