import type { ModelResponse } from '../types/model.js';
import type { AgentMiddleware, ModelCallContext, Next, ToolCallContext, ToolResult } from '../agent/types.js';

export type ModelHandler = Next<ModelCallContext, ModelResponse>;
export type ToolHandler = Next<ToolCallContext, ToolResult>;

/**
 * Builds the onion for model calls: `middleware[0]` is outermost, `inner` (the real engine call)
 * innermost. Middleware without a `model` hook is skipped at no cost.
 */
export function composeModelMiddleware(middleware: readonly AgentMiddleware[], inner: ModelHandler): ModelHandler {
  let handler = inner;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const m = middleware[i]!;
    if (m.model === undefined) continue;
    const next = handler;
    handler = (ctx) => m.model!(ctx, next);
  }
  return handler;
}

/** Builds the onion for tool calls, as `composeModelMiddleware` does for model calls. */
export function composeToolMiddleware(middleware: readonly AgentMiddleware[], inner: ToolHandler): ToolHandler {
  let handler = inner;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const m = middleware[i]!;
    if (m.tool === undefined) continue;
    const next = handler;
    handler = (ctx) => m.tool!(ctx, next);
  }
  return handler;
}
