import { AbortError, InvalidArgumentError } from '@baton/llm-client';
import { GraphNodeFailedError } from '../errors/orchestration-errors.js';
import type { JsonValue } from '../jobs/json-value.js';
import { serializeError, type SerializedError } from '../jobs/serialized-error.js';
import type { JobContext } from '../kernel/job-context.js';
import { OperatorContext } from '../orchestration/operator-context.js';
import type { ExecutionGraph, NodeInput, NodeRetryPolicy } from './execution-graph.js';
import type { GraphPlan } from './graph-validation.js';
import { defaultSleep, runNodeAttempts, type NodeOutcome, type Sleep } from './node-runner.js';

export type GraphNodeStatus = 'completed' | 'failed' | 'skipped';

/** What a graph run produced (journaled as the graph's step result). */
export interface GraphRunResult {
  graph: string;
  /** The latest output of each node that ran (a failed, recovered one: `{ error }`). */
  outputs: Record<string, JsonValue>;
  status: Record<string, GraphNodeStatus>;
  /** How many times each node ran (more than 1 for nodes inside a loop). */
  runs: Record<string, number>;
  errors: Record<string, SerializedError>;
}

export interface GraphExecutorOptions {
  /** Nodes running at once (default 4). */
  maxParallel?: number;
  /** Applies to nodes that set none. */
  defaultTimeoutMs?: number;
  defaultRetry?: Partial<NodeRetryPolicy>;
  /** Test seam: the timer used for timeouts and retry delays. */
  _internal?: { sleep?: Sleep };
}

/** The journaled result of one node run. */
type NodeRecord = { ok: true; output: JsonValue } | { ok: false; error: SerializedError; attempts: number };

type State = 'pending' | 'running' | 'paused' | GraphNodeStatus;

/**
 * Runs an `ExecutionGraph` inside a job. The graph is validated before any node runs. Ready
 * nodes (every forward predecessor resolved, at least one incoming edge taken) start by
 * priority, at most `maxParallel` at once; each node gets its predecessors' outputs. Each node
 * run is a journaled step (`<graph step>.<nodeId>.<iteration>`) — a checkpoint — so a resumed
 * or recovered job skips finished nodes. A node may wait for a person (`approvalNode`): the job
 * pauses once the nodes already running have finished, and continues from there on resume.
 *
 * A node that fails after its retries follows its failure edges (recovery); with none, the
 * graph stops the other nodes and fails with `GraphNodeFailedError`.
 */
export class GraphExecutor {
  private readonly maxParallel: number;
  private readonly defaultTimeoutMs: number | undefined;
  private readonly defaultRetry: NodeRetryPolicy;
  private readonly sleep: Sleep;

  constructor(options: GraphExecutorOptions = {}) {
    const maxParallel = options.maxParallel ?? 4;
    if (!Number.isInteger(maxParallel) || maxParallel < 1) throw new InvalidArgumentError('maxParallel', 'must be an integer ≥ 1');
    if (options.defaultTimeoutMs !== undefined && !(options.defaultTimeoutMs > 0)) throw new InvalidArgumentError('defaultTimeoutMs', 'must be a positive number');
    this.maxParallel = maxParallel;
    this.defaultTimeoutMs = options.defaultTimeoutMs;
    this.defaultRetry = { maxAttempts: 1, initialDelayMs: 100, maxDelayMs: 10_000, ...options.defaultRetry };
    this.sleep = options._internal?.sleep ?? defaultSleep;
  }

  /** Validates and runs `graph` on `input` as one journaled step of `ctx`. */
  async run(ctx: JobContext | OperatorContext, graph: ExecutionGraph, input: JsonValue): Promise<GraphRunResult> {
    const plan = graph.validate();
    return OperatorContext.within(ctx, `graph:${graph.name}`, (g) => new GraphRun(graph.name, plan, g, input, this).execute());
  }

  /** @internal */
  settings(): { maxParallel: number; defaultTimeoutMs: number | undefined; defaultRetry: NodeRetryPolicy; sleep: Sleep } {
    return { maxParallel: this.maxParallel, defaultTimeoutMs: this.defaultTimeoutMs, defaultRetry: this.defaultRetry, sleep: this.sleep };
  }
}

/** One run of a graph: its scheduling state, rebuilt the same way on every run of the job. */
class GraphRun {
  private readonly state = new Map<string, State>();
  private readonly iteration = new Map<string, number>();
  /** Per edge: taken (true), not taken (false) or not yet decided (undefined). */
  private readonly taken: Array<boolean | undefined>;
  private readonly traversals: number[];
  private readonly outputs: Record<string, JsonValue> = {};
  private readonly errors: Record<string, SerializedError> = {};
  private readonly runs: Record<string, number> = {};
  private readonly ready: string[] = [];
  /** Predecessors' outputs of each ready node, as they were when it became ready. */
  private readonly fed = new Map<string, Record<string, JsonValue>>();
  private running = 0;
  private idle: (() => void) | undefined;
  private readonly controller = new AbortController();
  private failure: { error: unknown } | undefined;
  private pause: { error: unknown } | undefined;
  private readonly settings: ReturnType<GraphExecutor['settings']>;

  constructor(
    private readonly name: string,
    private readonly plan: GraphPlan,
    private readonly ctx: OperatorContext,
    private readonly input: JsonValue,
    executor: GraphExecutor,
  ) {
    this.settings = executor.settings();
    this.taken = new Array<boolean | undefined>(plan.edges.length);
    this.traversals = new Array<number>(plan.edges.length).fill(0);
    for (const node of plan.nodes) {
      this.state.set(node.id, 'pending');
      this.iteration.set(node.id, 0);
    }
  }

  async execute(): Promise<GraphRunResult> {
    const outer = this.ctx.signal;
    const onAbort = () => this.controller.abort(outer.reason);
    if (outer.aborted) onAbort();
    else outer.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        for (const node of this.plan.nodes) this.consider(node.id);
        this.pump();
      });
    } finally {
      outer.removeEventListener('abort', onAbort);
    }
    if (this.failure) throw this.failure.error;
    if (outer.aborted) throw outer.reason instanceof Error ? outer.reason : new AbortError(outer.reason);
    if (this.pause) throw this.pause.error;
    const status: Record<string, GraphNodeStatus> = {};
    for (const [id, s] of this.state) if (s === 'completed' || s === 'failed' || s === 'skipped') status[id] = s;
    return { graph: this.name, outputs: this.outputs, status, runs: this.runs, errors: this.errors };
  }

  /** Starts ready nodes (by priority) up to the limit; resolves the run once nothing runs and nothing can start. */
  private pump(): void {
    if (!this.failure && !this.controller.signal.aborted) {
      if (this.ready.length > 1) this.ready.sort((a, b) => this.rank(a, b));
      while (this.ready.length > 0 && this.running < this.settings.maxParallel) {
        const id = this.ready.shift()!;
        this.running++;
        void this.start(id)
          .catch((error: unknown) => this.fail(id, error))
          .then(() => {
            this.running--;
            this.pump();
          });
      }
    }
    if (this.running === 0) this.idle?.();
  }

  private rank(a: string, b: string): number {
    const pa = this.plan.byId.get(a)!.priority ?? 0;
    const pb = this.plan.byId.get(b)!.priority ?? 0;
    return pb - pa || this.plan.topoIndex.get(a)! - this.plan.topoIndex.get(b)!;
  }

  /** Queues a pending node whose forward edges are all decided, or skips it when none was taken. */
  private consider(id: string): void {
    if (this.state.get(id) !== 'pending') return;
    const incoming = this.plan.forwardIn.get(id)!;
    let any = incoming.length === 0;
    for (const e of incoming) {
      const t = this.taken[e];
      if (t === undefined) return;
      if (t) any = true;
    }
    if (any) {
      const predecessors: Record<string, JsonValue> = {};
      for (const e of incoming) {
        const from = this.plan.edges[e]!.from;
        if (this.taken[e] && from in this.outputs) predecessors[from] = this.outputs[from]!;
      }
      this.fed.set(id, predecessors);
      this.state.set(id, 'running');
      this.ready.push(id);
      return;
    }
    this.state.set(id, 'skipped');
    this.resolveOut(id, () => false);
  }

  private async start(id: string): Promise<void> {
    const node = this.plan.byId.get(id)!;
    const iteration = this.iteration.get(id)!;
    const predecessors = this.fed.get(id) ?? {};
    this.fed.delete(id);
    const hasRecovery = this.plan.forwardOut.get(id)!.some((e) => this.plan.edges[e]!.on === 'failure') || this.plan.loopOut.get(id)!.some((e) => this.plan.edges[e]!.on === 'failure');
    const retry: NodeRetryPolicy = { ...this.settings.defaultRetry, ...node.retry };
    let record: NodeRecord;
    try {
      record = await this.ctx.scope(
        `node:${id}`,
        async (nodeCtx) => {
          const inputFor = (attempt: number) => this.nodeInput(id, predecessors, iteration, attempt);
          const outcome: NodeOutcome = await runNodeAttempts(node, inputFor, nodeCtx, retry, this.settings.sleep, this.settings.defaultTimeoutMs);
          if (outcome.ok) return { ok: true, output: outcome.output } satisfies NodeRecord;
          if (!hasRecovery) throw this.failed(id, outcome.error, outcome.attempts);
          return { ok: false, error: serializeError(outcome.error), attempts: outcome.attempts } satisfies NodeRecord;
        },
        { at: `${this.ctx.path}.${id}.${iteration}`, signal: this.controller.signal },
      );
    } catch (error) {
      if (OperatorContext.isControlSignal(error)) {
        this.state.set(id, 'paused');
        this.pause ??= { error };
        return;
      }
      this.fail(id, error);
      return;
    }
    this.finish(id, record);
  }

  /** The first failure stops the graph; later errors (the stop's echoes) are dropped. */
  private fail(id: string, error: unknown): void {
    if (this.failure || this.controller.signal.aborted) return;
    this.failure = { error: error instanceof GraphNodeFailedError ? error : this.failed(id, error, 1) };
    this.controller.abort(this.failure.error);
  }

  /** A node's input; `outputs` (its ancestors' and loop mates' latest outputs) is built on first read. */
  private nodeInput(id: string, predecessors: Record<string, JsonValue>, iteration: number, attempt: number): NodeInput {
    const input = { nodeId: id, input: this.input, predecessors, iteration, attempt } as NodeInput;
    const visible = this.plan.visible.get(id)!;
    let snapshot: Record<string, JsonValue> | undefined;
    Object.defineProperty(input, 'outputs', {
      enumerable: true,
      get: () => {
        if (!snapshot) {
          snapshot = {};
          for (const v of visible) if (v in this.outputs) snapshot[v] = this.outputs[v]!;
        }
        return snapshot;
      },
    });
    return input;
  }

  private failed(id: string, cause: unknown, attempts: number): GraphNodeFailedError {
    const e = serializeError(cause);
    return new GraphNodeFailedError({ graph: this.name, nodeId: id, attempts, message: e.message, nodeErrorCode: e.code, retryable: e.retryable, cause });
  }

  /** Records a node's result, then follows its loop edges (first taken wins) or its forward edges. */
  private finish(id: string, record: NodeRecord): void {
    this.runs[id] = (this.runs[id] ?? 0) + 1;
    const on = record.ok ? 'success' : 'failure';
    if (record.ok) {
      this.outputs[id] = record.output;
      this.state.set(id, 'completed');
      delete this.errors[id];
    } else {
      this.outputs[id] = { error: record.error as unknown as JsonValue };
      this.errors[id] = record.error;
      this.state.set(id, 'failed');
    }
    const output = this.outputs[id]!;
    const edgeCtx = { input: this.input, outputs: this.outputs, error: record.ok ? undefined : record.error };
    const matches = (e: number) => {
      const edge = this.plan.edges[e]!;
      return (edge.on ?? 'success') === on && (edge.condition ? edge.condition(output, edgeCtx) : true);
    };
    for (const e of this.plan.loopOut.get(id)!) {
      const edge = this.plan.edges[e]!;
      if (this.traversals[e]! < edge.maxTraversals! && matches(e)) {
        this.traversals[e]!++;
        this.restart(this.plan.loopBody.get(e)!);
        return;
      }
    }
    this.resolveOut(id, matches);
  }

  private resolveOut(id: string, take: (edge: number) => boolean): void {
    const out = this.plan.forwardOut.get(id)!;
    for (const e of out) this.taken[e] = take(e);
    for (const e of out) this.consider(this.plan.edges[e]!.to);
  }

  /** Sends the graph back through a loop: its nodes run again (next iteration), their edges are undecided. */
  private restart(body: readonly string[]): void {
    for (const id of body) {
      this.state.set(id, 'pending');
      this.iteration.set(id, this.iteration.get(id)! + 1);
      for (const e of this.plan.forwardOut.get(id)!) this.taken[e] = undefined;
    }
    for (const id of body) this.consider(id);
  }
}

