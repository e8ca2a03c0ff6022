import { InvalidArgumentError } from '@baton/llm-client';
import type { SerializedError } from '../jobs/serialized-error.js';
import type { JsonValue } from '../jobs/json-value.js';
import type { Operator } from '../orchestration/operator.js';
import type { OperatorContext } from '../orchestration/operator-context.js';
import { analyzeGraph, type GraphPlan } from './graph-validation.js';

/** What a node gets when it runs. */
export interface NodeInput<I = JsonValue> {
  nodeId: string;
  /** The graph's input. */
  input: I;
  /** Outputs of the predecessors whose edges to this node were taken (a failed one: `{ error }`). */
  predecessors: Record<string, JsonValue>;
  /** The latest output of every node that has finished so far. */
  outputs: Record<string, JsonValue>;
  /** 0 the first time; +1 each time a loop edge sends the graph back through this node. */
  iteration: number;
  /** 1 for the first attempt; more after retries. */
  attempt: number;
}

/** A node's work: a function (deterministic between steps, effects through `ctx`) or an operator. */
export type NodeRun = ((input: NodeInput<any>, ctx: OperatorContext) => unknown) | Operator<NodeInput<any>, any>;

/** How a node retries a failed attempt (with its own fresh step ids). */
export interface NodeRetryPolicy {
  /** Attempts in all, the first included (default 1: no retry). */
  maxAttempts: number;
  /** Delay before the second attempt (default 100 ms), doubling up to `maxDelayMs` (default 10 s). */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Which errors are worth another attempt (default: all). */
  retryOn?: ((error: unknown) => boolean) | undefined;
}

export interface GraphNode {
  /** Letters, digits, `_` and `-` (ids become part of step ids). */
  id: string;
  run: NodeRun;
  /** Among ready nodes, higher first (default 0; ties in declaration order). */
  priority?: number | undefined;
  /** Per attempt; a late attempt fails with `GraphNodeTimeoutError` (retryable). */
  timeoutMs?: number | undefined;
  retry?: Partial<NodeRetryPolicy> | undefined;
  description?: string | undefined;
}

/** What an edge condition sees. */
export interface EdgeContext {
  input: JsonValue;
  outputs: Readonly<Record<string, JsonValue>>;
  /** The source's error, for failure edges. */
  error?: SerializedError | undefined;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** Taken only when it returns true (default: always). Must be deterministic. */
  condition?: ((output: JsonValue, ctx: EdgeContext) => boolean) | undefined;
  /** `failure`: taken when `from` failed after its retries (recovery); default `success`. */
  on?: 'success' | 'failure' | undefined;
  /**
   * Makes this a loop edge: it goes back to an earlier node (or the same one) and may be
   * traversed at most this many times. Every cycle needs one; a cycle without → `GraphValidationError`.
   */
  maxTraversals?: number | undefined;
}

export interface ExecutionGraphOptions {
  name: string;
  nodes?: readonly GraphNode[];
  edges?: readonly GraphEdge[];
}

/**
 * A graph of nodes (agents, operators, functions, human approvals) and edges (optionally
 * conditional; loop edges with a bound; failure edges for recovery). Build it once and run it
 * with `GraphExecutor` inside a job: each node is a journaled step.
 */
export class ExecutionGraph {
  readonly name: string;
  private readonly nodeList: GraphNode[] = [];
  private readonly edgeList: GraphEdge[] = [];
  private plan: GraphPlan | undefined;

  constructor(options: ExecutionGraphOptions) {
    if (typeof options?.name !== 'string' || options.name.length === 0) throw new InvalidArgumentError('name', 'a graph needs a name');
    this.name = options.name;
    for (const node of options.nodes ?? []) this.addNode(node);
    for (const edge of options.edges ?? []) this.addEdge(edge);
  }

  addNode(node: GraphNode): this {
    if (typeof node !== 'object' || node === null) throw new InvalidArgumentError('node', 'must be an object');
    const run = node.run as unknown;
    const isOperator = typeof run === 'object' && run !== null && typeof (run as { execute?: unknown }).execute === 'function';
    if (typeof run !== 'function' && !isOperator) throw new InvalidArgumentError(`nodes.${String(node.id)}.run`, 'must be a function (input, ctx) => output or an Operator');
    if (node.timeoutMs !== undefined && !(typeof node.timeoutMs === 'number' && node.timeoutMs > 0 && Number.isFinite(node.timeoutMs))) throw new InvalidArgumentError(`nodes.${node.id}.timeoutMs`, 'must be a positive number');
    if (node.priority !== undefined && !Number.isFinite(node.priority)) throw new InvalidArgumentError(`nodes.${node.id}.priority`, 'must be a finite number');
    const attempts = node.retry?.maxAttempts;
    if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 1)) throw new InvalidArgumentError(`nodes.${node.id}.retry.maxAttempts`, 'must be an integer ≥ 1');
    this.nodeList.push({ ...node });
    this.plan = undefined;
    return this;
  }

  addEdge(edge: GraphEdge): this {
    if (typeof edge !== 'object' || edge === null) throw new InvalidArgumentError('edge', 'must be an object');
    if (edge.condition !== undefined && typeof edge.condition !== 'function') throw new InvalidArgumentError(`edges.${edge.from}->${edge.to}.condition`, 'must be a function');
    if (edge.on !== undefined && edge.on !== 'success' && edge.on !== 'failure') throw new InvalidArgumentError(`edges.${edge.from}->${edge.to}.on`, "must be 'success' or 'failure'");
    if (edge.maxTraversals !== undefined && !(Number.isInteger(edge.maxTraversals) && edge.maxTraversals >= 1)) throw new InvalidArgumentError(`edges.${edge.from}->${edge.to}.maxTraversals`, 'must be an integer ≥ 1');
    this.edgeList.push({ ...edge });
    this.plan = undefined;
    return this;
  }

  get nodes(): readonly GraphNode[] {
    return this.nodeList;
  }

  get edges(): readonly GraphEdge[] {
    return this.edgeList;
  }

  /** Checks the graph (unknown nodes, duplicate or bad ids, cycles without a bound); throws `GraphValidationError`. */
  validate(): GraphPlan {
    this.plan ??= analyzeGraph(this.name, this.nodeList, this.edgeList);
    return this.plan;
  }
}
