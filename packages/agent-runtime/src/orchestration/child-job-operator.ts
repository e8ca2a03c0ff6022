import { InvalidArgumentError } from '@baton/llm-client';
import type { JsonValue } from '../jobs/json-value.js';
import type { RuntimeKernel } from '../kernel/runtime-kernel.js';
import { ChildJobs, type ChildJobRequest } from './child-jobs.js';
import type { OperatorContext } from './operator-context.js';
import { checkOperatorName, type Operator, type OperatorResult } from './operator.js';
import type { OrchestrationConfig } from './orchestration-config.js';

export interface ChildJobOperatorOptions<I> {
  name?: string;
  kernel: RuntimeKernel;
  /** The child job for an input; e.g. `(input) => ({ workflow: 'research', input })`. */
  request: (input: I) => ChildJobRequest;
  config?: OrchestrationConfig;
}

/** An operator that runs its input as a child job (its own record, journal and events) and returns the child's result. */
export function childJobOperator<I = JsonValue>(options: ChildJobOperatorOptions<I>): Operator<I, JsonValue> {
  const name = checkOperatorName(options?.name ?? 'child-job');
  if (typeof options.request !== 'function') throw new InvalidArgumentError('request', 'must be a function (input) => ChildJobRequest');
  return {
    name,
    async execute(input: I, ctx: OperatorContext): Promise<OperatorResult<JsonValue>> {
      const children = new ChildJobs({ kernel: options.kernel, ctx, ...(options.config ? { config: options.config } : {}) });
      const result = await children.run(options.request(input));
      return { output: result.output, metadata: { childJobId: result.childJobId, tokens: result.usage.tokens } };
    },
  };
}
