import { TimeoutError } from '../errors/engine-errors.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { toolErrorContent } from '../tools/tool-output.js';
import type { AgentMiddleware, ToolResult } from '../agent/types.js';

export interface TimeoutMiddlewareOptions {
  /**
   * Per-attempt timeout for model calls, handed to the engine (which aborts the HTTP request
   * and may retry). Default: none here, the engine's own.
   */
  modelTimeoutMs?: number;
  /**
   * Per-attempt timeout for tool calls (default 120,000 ms). On expiry the tool's signal is
   * aborted and the call becomes a retryable `TimeoutError` tool error; a tool that ignores
   * its signal is left to finish and its late result is dropped.
   */
  toolTimeoutMs?: number;
}

/** A `timeoutMs` set on a call's context (by an outer middleware) wins over these defaults. */
export function timeoutMiddleware(options: TimeoutMiddlewareOptions = {}): AgentMiddleware {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
  const modelTimeoutMs = positive(options.modelTimeoutMs, 'modelTimeoutMs');
  const toolTimeoutMs = options.toolTimeoutMs === undefined ? 120_000 : positive(options.toolTimeoutMs, 'toolTimeoutMs');
  const middleware: AgentMiddleware = {
    name: 'timeout',
    async tool(ctx, next) {
      const ms = ctx.timeoutMs ?? toolTimeoutMs;
      if (ms === undefined) return next(ctx);
      // A child signal that follows the run's and also fires on expiry. (Cheaper than
      // AbortSignal.any, which registers weak references per call.)
      const controller = new AbortController();
      const parent = ctx.signal;
      const follow = (): void => controller.abort(parent.reason);
      if (parent.aborted) follow();
      else parent.addEventListener('abort', follow, { once: true });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<ToolResult>((resolve) => {
        timer = setTimeout(() => {
          const error = new TimeoutError(ms, `Tool '${ctx.toolCall.name}'`);
          controller.abort(error);
          resolve({ type: 'error', error, content: toolErrorContent(error) });
        }, ms);
      });
      try {
        return await Promise.race([next({ ...ctx, signal: controller.signal }), expired]);
      } finally {
        clearTimeout(timer);
        parent.removeEventListener('abort', follow);
      }
    },
  };
  if (modelTimeoutMs === undefined) return middleware;
  return {
    ...middleware,
    model(ctx, next) {
      if (ctx.timeoutMs === undefined) ctx.timeoutMs = modelTimeoutMs;
      return next(ctx);
    },
  };
}

function positive(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(name, `must be a finite number > 0, got ${String(value)}`);
  return value;
}
