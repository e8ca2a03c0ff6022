import { GraphNodeTimeoutError } from '../errors/orchestration-errors.js';
import type { JsonValue } from '../jobs/json-value.js';
import { OperatorContext, executeOperator } from '../orchestration/operator-context.js';
import type { Operator } from '../orchestration/operator.js';
import type { GraphNode, NodeInput, NodeRetryPolicy } from './execution-graph.js';

/** Waits `ms`, or rejects when `signal` fires. Injectable for tests. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const defaultSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** How one node run ended after its attempts. */
export type NodeOutcome = { ok: true; output: JsonValue; attempts: number } | { ok: false; error: unknown; attempts: number };

/**
 * Runs a node's attempts inside its journaled step (`ctx.path`). Attempt `k` takes its steps
 * under `<path>.<k>`, so a retry never replays a failed attempt's steps, while a resumed job
 * replays the attempt that was under way. Each attempt is bounded by the node's `timeoutMs`
 * (its signal is aborted, and the attempt fails with `GraphNodeTimeoutError`). The runtime's
 * pause signal passes straight through.
 */
export async function runNodeAttempts(node: GraphNode, inputFor: (attempt: number) => NodeInput, ctx: OperatorContext, retry: NodeRetryPolicy, sleep: Sleep, defaultTimeoutMs: number | undefined): Promise<NodeOutcome> {
  const timeoutMs = node.timeoutMs ?? defaultTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const output = await runAttempt(node, inputFor(attempt), ctx, attempt, timeoutMs, sleep);
      return { ok: true, output: output === undefined ? null : (output as JsonValue), attempts: attempt };
    } catch (error) {
      if (OperatorContext.isControlSignal(error)) throw error;
      ctx.job.throwIfStopped();
      if (ctx.signal.aborted) throw error;
      const again = attempt < retry.maxAttempts && (retry.retryOn ? retry.retryOn(error) : true);
      if (!again) return { ok: false, error, attempts: attempt };
      const delay = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempt - 1));
      if (delay > 0) await sleep(delay, ctx.signal);
    }
  }
}

async function runAttempt(node: GraphNode, input: NodeInput, nodeCtx: OperatorContext, attempt: number, timeoutMs: number | undefined, sleep: Sleep): Promise<unknown> {
  const path = `${nodeCtx.path}.${attempt}`;
  if (timeoutMs === undefined) return invoke(node, input, new OperatorContext(nodeCtx.job, path, nodeCtx.signal));
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(nodeCtx.signal.reason);
  nodeCtx.signal.addEventListener('abort', onParentAbort, { once: true });
  const timer = new AbortController();
  try {
    const work = invoke(node, input, new OperatorContext(nodeCtx.job, path, controller.signal));
    const deadline = sleep(timeoutMs, timer.signal).then(() => {
      const error = new GraphNodeTimeoutError(node.id, timeoutMs);
      controller.abort(error);
      throw error;
    });
    // The abandoned side settles later: keep its rejection from going unhandled.
    work.catch(() => undefined);
    deadline.catch(() => undefined);
    return await Promise.race([work, deadline]);
  } finally {
    timer.abort();
    nodeCtx.signal.removeEventListener('abort', onParentAbort);
  }
}

async function invoke(node: GraphNode, input: NodeInput, ctx: OperatorContext): Promise<unknown> {
  const run = node.run;
  if (typeof run === 'function') return run(input, ctx);
  return (await executeOperator(run as Operator<NodeInput, unknown>, input, ctx)).output;
}
