import { BatonError } from '@baton/llm-client';

/** An operator failed; names the operator and where it ran (its step id in the job). */
export class OperatorFailedError extends BatonError {
  override readonly name = 'OperatorFailedError';
  readonly code = 'operator_failed';
  readonly operator: string;
  readonly jobId: string;
  readonly stepId: string;
  constructor(options: { operator: string; jobId: string; stepId: string; message: string; cause?: unknown; retryable?: boolean }) {
    super({ message: `Operator '${options.operator}' (job ${options.jobId}, step ${options.stepId}) failed: ${options.message}`, cause: options.cause, retryable: options.retryable ?? false });
    this.operator = options.operator;
    this.jobId = options.jobId;
    this.stepId = options.stepId;
  }
}

/** A job context cannot allocate nested step ids: the runtime kernel and the orchestration module are out of step. */
export class ScopedContextUnsupportedError extends BatonError {
  override readonly name = 'ScopedContextUnsupportedError';
  readonly code = 'scoped_context_unsupported';
  constructor() {
    super({ message: 'This JobContext cannot allocate nested step ids: the runtime kernel and the orchestration module are out of step' });
  }
}

/** A router found no route for its input and has no fallback. */
export class NoRouteError extends BatonError {
  override readonly name = 'NoRouteError';
  readonly code = 'no_route';
  readonly router: string;
  readonly classification: string | undefined;
  constructor(router: string, classification?: string) {
    super({ message: `Router '${router}' found no route${classification === undefined ? '' : ` for '${classification}'`} and has no fallback` });
    this.router = router;
    this.classification = classification;
  }
}

/** A child job ended without completing; names the child, its parent and how it ended. */
export class ChildJobFailedError extends BatonError {
  override readonly name = 'ChildJobFailedError';
  readonly code = 'child_job_failed';
  readonly childJobId: string;
  readonly parentJobId: string;
  readonly childStatus: string;
  /** The child's own error code (e.g. `policy_denied`), when it failed with one. */
  readonly childErrorCode: string | undefined;
  constructor(options: { childJobId: string; parentJobId: string; childStatus: string; message: string; childErrorCode?: string | undefined; cause?: unknown }) {
    super({ message: `Child job ${options.childJobId} of job ${options.parentJobId} ${options.childStatus}: ${options.message}`, cause: options.cause });
    this.childJobId = options.childJobId;
    this.parentJobId = options.parentJobId;
    this.childStatus = options.childStatus;
    this.childErrorCode = options.childErrorCode;
  }
}

/** Spawning a child job would go past `maxChildJobs` or `maxDepth`, or past the budget it inherits. */
export class ChildJobLimitError extends BatonError {
  override readonly name = 'ChildJobLimitError';
  readonly code = 'child_job_limit';
  readonly parentJobId: string;
  readonly limit: 'maxChildJobs' | 'maxDepth' | 'budget';
  readonly value: number;
  constructor(parentJobId: string, limit: 'maxChildJobs' | 'maxDepth' | 'budget', value: number, detail: string) {
    super({ message: `Job ${parentJobId} cannot spawn another child job: ${detail}` });
    this.parentJobId = parentJobId;
    this.limit = limit;
    this.value = value;
  }
}

/** One problem found while validating a graph. */
export interface GraphIssue {
  readonly kind: 'duplicate_node' | 'unknown_node' | 'invalid_node' | 'cycle' | 'loop_edge';
  readonly message: string;
  readonly nodeId?: string | undefined;
  /** For `cycle`: the node ids around it, first repeated last. */
  readonly cycle?: readonly string[] | undefined;
}

/** A graph that cannot run: unknown nodes, unbounded cycles, duplicates. Thrown before any node runs. */
export class GraphValidationError extends BatonError {
  override readonly name = 'GraphValidationError';
  readonly code: string;
  readonly graph: string;
  readonly issues: readonly GraphIssue[];
  constructor(graph: string, issues: readonly GraphIssue[]) {
    super({ message: `Graph '${graph}' is invalid: ${issues.map((i) => i.message).join('; ')}` });
    this.graph = graph;
    this.issues = issues;
    const first = issues[0]?.kind;
    this.code = first === 'unknown_node' ? 'graph_unknown_node' : first === 'cycle' ? 'graph_unbounded_cycle' : 'graph_invalid';
  }
}

/** A graph node failed after its retries, and no failure edge leads away from it. */
export class GraphNodeFailedError extends BatonError {
  override readonly name = 'GraphNodeFailedError';
  readonly code = 'graph_node_failed';
  readonly graph: string;
  readonly nodeId: string;
  readonly attempts: number;
  readonly nodeErrorCode: string | undefined;
  constructor(options: { graph: string; nodeId: string; attempts: number; message: string; nodeErrorCode?: string | undefined; retryable?: boolean; cause?: unknown }) {
    super({ message: `Node '${options.nodeId}' of graph '${options.graph}' failed after ${options.attempts} attempt(s): ${options.message}`, cause: options.cause, retryable: options.retryable ?? false });
    this.graph = options.graph;
    this.nodeId = options.nodeId;
    this.attempts = options.attempts;
    this.nodeErrorCode = options.nodeErrorCode;
  }
}

/** One attempt of a graph node ran past its `timeoutMs`. Retryable (the node's retry policy decides). */
export class GraphNodeTimeoutError extends BatonError {
  override readonly name = 'GraphNodeTimeoutError';
  readonly code = 'graph_node_timeout';
  readonly nodeId: string;
  readonly timeoutMs: number;
  constructor(nodeId: string, timeoutMs: number) {
    super({ message: `Node '${nodeId}' did not finish within ${timeoutMs} ms`, retryable: true });
    this.nodeId = nodeId;
    this.timeoutMs = timeoutMs;
  }
}

/** A recording file that cannot be read, is not JSON, or does not match its format version. */
export class InvalidRecordingError extends BatonError {
  override readonly name = 'InvalidRecordingError';
  readonly code = 'invalid_recording';
  readonly path: string | undefined;
  readonly issue: string;
  constructor(issue: string, options: { path?: string | undefined; cause?: unknown } = {}) {
    super({ message: `Invalid recording${options.path ? ` '${options.path}'` : ''}: ${issue}`, cause: options.cause });
    this.path = options.path;
    this.issue = issue;
  }
}
