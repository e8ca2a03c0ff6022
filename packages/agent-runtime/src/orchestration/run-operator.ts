import { InvalidArgumentError } from '@baton/llm-client';
import type { JsonValue } from '../jobs/json-value.js';
import type { JobContext } from '../kernel/job-context.js';
import type { Workflow } from '../kernel/job-runner.js';
import { executeOperator, OperatorContext } from './operator-context.js';
import { checkOperator, type Operator, type OperatorResult } from './operator.js';

/**
 * Runs an operator as a step of a job (from a workflow: `runOperator(ctx, op, input)`), or as
 * a nested step of another operator. Its result is journaled; a resumed job does not run it again.
 */
export async function runOperator<I, O>(ctx: JobContext | OperatorContext, operator: Operator<I, O>, input: I): Promise<OperatorResult<O>> {
  checkOperator(operator, 'operator');
  if (ctx instanceof OperatorContext) return ctx.run(operator, input);
  return OperatorContext.within(ctx, `operator:${operator.name}`, (octx) => executeOperator(operator, input, octx), { input: input === undefined ? null : input });
}

export interface OperatorWorkflowOptions<O> {
  /** The job's result from the operator's; default: `{ output, usage?, metadata? }`. */
  result?: (result: OperatorResult<O>) => unknown;
}

/**
 * A workflow (to register with `RuntimeKernel`) that runs one operator on the job's input.
 * Every host that may resume such jobs registers the same workflow under the same name.
 */
export function operatorWorkflow<O>(operator: Operator<JsonValue, O>, options: OperatorWorkflowOptions<O> = {}): Workflow {
  checkOperator(operator, 'operator');
  if (options.result !== undefined && typeof options.result !== 'function') throw new InvalidArgumentError('result', 'must be a function');
  return async (ctx, input) => {
    const result = await runOperator(ctx, operator, input);
    return options.result ? options.result(result) : result;
  };
}
