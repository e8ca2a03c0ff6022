export { ExecutionGraph, type ExecutionGraphOptions, type GraphNode, type GraphEdge, type NodeInput, type NodeRun, type NodeRetryPolicy, type EdgeContext } from './execution-graph.js';
export { analyzeGraph, type GraphPlan } from './graph-validation.js';
export { GraphExecutor, type GraphExecutorOptions, type GraphRunResult, type GraphNodeStatus } from './graph-executor.js';
export { approvalNode, type ApprovalNodeOptions, type ApprovalNodeOutput } from './approval-node.js';
export { graphWorkflow } from './graph-workflow.js';
export type { Sleep } from './node-runner.js';
