import { ToolExecutionError } from '../errors/agent-errors.js';
import type { ToolHandler } from '../middleware/compose.js';
import { toolErrorContent } from '../tools/tool-output.js';
import { abortError, isAbortLike } from './abort.js';

/**
 * The innermost tool handler: runs `execute` with the validated arguments. A tool that throws
 * becomes an error result (a `ToolExecutionError` keeping the thrown error as `cause`) that the
 * model will see; an abort of the run's signal is rethrown instead.
 */
export const executeToolHandler: ToolHandler = async (ctx) => {
  const { tool, toolCall, signal } = ctx;
  let output: unknown;
  try {
    output = await tool.execute(ctx.args, { toolCallId: toolCall.id, context: ctx.context, signal, idempotencyKey: ctx.idempotencyKey });
  } catch (error) {
    if (signal.aborted && isAbortLike(error)) throw abortError(signal);
    return { type: 'error', error: new ToolExecutionError(toolCall.name, toolCall.id, error), content: toolErrorContent(error) };
  }
  let content: string;
  try {
    const text: unknown = tool.toModelOutput(output);
    content = typeof text === 'string' ? text : String(text);
  } catch (error) {
    return { type: 'error', error: new ToolExecutionError(toolCall.name, toolCall.id, error), content: toolErrorContent(error) };
  }
  return { type: 'output', output, content };
};
