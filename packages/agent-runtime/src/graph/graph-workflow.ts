import type { Workflow } from '../kernel/job-runner.js';
import type { ExecutionGraph } from './execution-graph.js';
import { GraphExecutor, type GraphExecutorOptions, type GraphRunResult } from './graph-executor.js';

/**
 * A workflow (to register with `RuntimeKernel`) that runs `graph` on the job's input. The graph
 * is validated here, at registration, and again before each run.
 */
export function graphWorkflow(graph: ExecutionGraph, options: GraphExecutorOptions & { result?: (run: GraphRunResult) => unknown } = {}): Workflow {
  graph.validate();
  const { result, ...executorOptions } = options;
  const executor = new GraphExecutor(executorOptions);
  return async (ctx, input) => {
    const run = await executor.run(ctx, graph, input);
    return result ? result(run) : run;
  };
}
