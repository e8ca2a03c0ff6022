import { BatonError } from '../errors/baton-error.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { AgentMiddleware } from '../agent/types.js';
import { defaultNow } from './clock.js';
import { silentLogger, type Logger } from './logger.js';

export interface LoggingMiddlewareOptions {
  /** Default: silent (the middleware then does nothing at all). */
  logger?: Logger;
  /**
   * Also log prompts, answers, tool arguments and outputs (default false). They may hold
   * personal data; keys and credentials are never logged either way.
   */
  logContent?: boolean;
  now?: () => number;
}

/**
 * Logs each model and tool call: start and finish at `debug`, tool error results at `warn`,
 * failures at `error`. By default only ids, names, counts, usage and timings are logged.
 */
export function loggingMiddleware(options: LoggingMiddlewareOptions = {}): AgentMiddleware {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
  const logger = options.logger ?? silentLogger;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') throw new InvalidArgumentError('logger', `must have a '${level}' method`);
  }
  if (logger === silentLogger) return { name: 'logging' };
  const logContent = options.logContent === true;
  const now = options.now ?? defaultNow;

  return {
    name: 'logging',
    async model(ctx, next) {
      const fields = { agent: ctx.agentName, runId: ctx.state.runId, turn: ctx.turn, callIndex: ctx.callIndex, model: ctx.request.model };
      logger.debug('model call started', {
        ...fields,
        messages: ctx.request.messages.length,
        tools: ctx.request.tools?.length ?? 0,
        ...(logContent ? { prompt: ctx.request.messages } : {}),
      });
      const start = now();
      try {
        const response = await next(ctx);
        logger.debug('model call finished', {
          ...fields,
          durationMs: now() - start,
          provider: response.provider,
          finishReason: response.finishReason,
          usage: response.usage,
          toolCalls: response.toolCalls.map((c) => c.name),
          ...(logContent ? { text: response.text } : {}),
        });
        return response;
      } catch (error) {
        logger.error('model call failed', { ...fields, durationMs: now() - start, error: describeError(error) });
        throw error;
      }
    },
    async tool(ctx, next) {
      const fields = { agent: ctx.agentName, runId: ctx.state.runId, turn: ctx.turn, callIndex: ctx.callIndex, tool: ctx.toolCall.name, toolCallId: ctx.toolCall.id };
      logger.debug('tool call started', { ...fields, ...(logContent ? { args: ctx.args } : {}) });
      const start = now();
      try {
        const result = await next(ctx);
        const durationMs = now() - start;
        if (result.type === 'error') logger.warn('tool call returned an error', { ...fields, durationMs, error: describeError(result.error) });
        else if (result.type === 'suspend') logger.info('tool call suspended the run', { ...fields, durationMs, reason: result.reason });
        else logger.debug('tool call finished', { ...fields, durationMs, ...(logContent ? { output: result.content } : {}) });
        return result;
      } catch (error) {
        logger.error('tool call failed', { ...fields, durationMs: now() - start, error: describeError(error) });
        throw error;
      }
    },
  };
}

/** Baton errors as their safe JSON form; other errors as name and message only (no stack, no cause). */
function describeError(error: unknown): Record<string, unknown> {
  if (BatonError.isInstance(error)) return error.toJSON();
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}
