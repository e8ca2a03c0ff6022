import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { FinishReason, Usage } from '../types/messages.js';
import type { AgentMiddleware, ModelCallContext, ToolCallContext } from '../agent/types.js';
import { defaultNow } from './clock.js';

interface CallFields {
  runId: string;
  agentName: string;
  turn: number;
  callIndex: number;
  /** When the event happened, on the clock (epoch milliseconds by default). */
  timestamp: number;
}

interface ModelFields extends CallFields {
  /** The requested model id (the provider's default when undefined). */
  model: string | undefined;
}

interface ToolFields extends CallFields {
  toolName: string;
  toolCallId: string;
}

/** What the telemetry middleware reports; one `*.start` and one `*.finish` or `*.error` per call. */
export type TelemetryEvent =
  | ({ type: 'model.start' } & ModelFields)
  | ({ type: 'model.finish'; durationMs: number; usage: Usage; finishReason: FinishReason; costNanoUsd: number | undefined; toolCalls: number; provider: string } & ModelFields)
  | ({ type: 'model.error'; durationMs: number; error: unknown } & ModelFields)
  | ({ type: 'tool.start' } & ToolFields)
  | ({ type: 'tool.finish'; durationMs: number; outcome: 'output' | 'suspend' } & ToolFields)
  | ({ type: 'tool.error'; durationMs: number; error: unknown } & ToolFields);

export interface TelemetryMiddlewareOptions {
  /** Receives every event; an exception it throws is swallowed (telemetry never breaks a run). */
  onEvent: (event: TelemetryEvent) => void;
  /** Clock in milliseconds (default: epoch milliseconds with sub-millisecond precision). */
  now?: () => number;
}

/**
 * Timings of every model and tool call. A tool call that returns an error result (bad tool,
 * timeout, thrown error) reports `tool.error`, as does one that throws (budget, abort).
 */
export function telemetryMiddleware(options: TelemetryMiddlewareOptions): AgentMiddleware {
  if (typeof options !== 'object' || options === null || typeof options.onEvent !== 'function') {
    throw new InvalidArgumentError('onEvent', 'must be a function');
  }
  const { onEvent } = options;
  const now = options.now ?? defaultNow;
  const report = (event: TelemetryEvent): void => {
    try {
      onEvent(event);
    } catch {
      // A broken observer must not change the run.
    }
  };

  return {
    name: 'telemetry',
    async model(ctx, next) {
      const start = now();
      const base = modelFields(ctx, start);
      report({ type: 'model.start', ...base });
      try {
        const response = await next(ctx);
        const end = now();
        report({
          type: 'model.finish',
          ...base,
          timestamp: end,
          durationMs: end - start,
          usage: response.usage,
          finishReason: response.finishReason,
          costNanoUsd: response.cost?.nanoUsd,
          toolCalls: response.toolCalls.length,
          provider: response.provider,
        });
        return response;
      } catch (error) {
        const end = now();
        report({ type: 'model.error', ...base, timestamp: end, durationMs: end - start, error });
        throw error;
      }
    },
    async tool(ctx, next) {
      const start = now();
      const base = toolFields(ctx, start);
      report({ type: 'tool.start', ...base });
      try {
        const result = await next(ctx);
        const end = now();
        if (result.type === 'error') report({ type: 'tool.error', ...base, timestamp: end, durationMs: end - start, error: result.error });
        else report({ type: 'tool.finish', ...base, timestamp: end, durationMs: end - start, outcome: result.type });
        return result;
      } catch (error) {
        const end = now();
        report({ type: 'tool.error', ...base, timestamp: end, durationMs: end - start, error });
        throw error;
      }
    },
  };
}

function modelFields(ctx: ModelCallContext, timestamp: number): ModelFields {
  return { runId: ctx.state.runId, agentName: ctx.agentName, turn: ctx.turn, callIndex: ctx.callIndex, timestamp, model: ctx.request.model };
}

function toolFields(ctx: ToolCallContext, timestamp: number): ToolFields {
  return { runId: ctx.state.runId, agentName: ctx.agentName, turn: ctx.turn, callIndex: ctx.callIndex, timestamp, toolName: ctx.toolCall.name, toolCallId: ctx.toolCall.id };
}
