import type { ZodType } from 'zod';
import type { JsonSchema, ToolDefinition } from '../types/model.js';
import type { RequestContext } from '../types/request-context.js';

export interface ToolExecutionContext {
  toolCallId: string;
  context: RequestContext;
  signal: AbortSignal;
  /**
   * Stable key for this call's side effects; the same on a replayed/resumed run (the runtime
   * sets it to jobId + step index). Pass it to external APIs as their idempotency key.
   */
  idempotencyKey: string;
}

export interface Tool<A = any, R = any> {
  readonly name: string;
  readonly description: string;
  readonly parameters: ZodType<A>;
  /** JSON schema sent to the model (derived from `parameters`). */
  readonly jsonSchema: JsonSchema;
  /** Runs the tool with validated arguments (method syntax: a `Tool<X, Y>` fits a `Tool[]`). */
  execute(args: A, ctx: ToolExecutionContext): Promise<R> | R;
  /** Free-form labels a policy can match (e.g. `{ sideEffects: true }`). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** How the output is turned into text for the model (default: JSON, strings as they are). */
  toModelOutput(output: R): string;
  definition(): ToolDefinition;
}

export interface ToolConfig<A, R> {
  name: string;
  description?: string;
  parameters: ZodType<A>;
  execute: (args: A, ctx: ToolExecutionContext) => Promise<R> | R;
  metadata?: Record<string, unknown>;
  toModelOutput?: (output: R) => string;
}
