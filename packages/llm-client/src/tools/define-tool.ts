import { z, type ZodType } from 'zod';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { JsonSchema, ToolDefinition } from '../types/model.js';
import { defaultToModelOutput } from './tool-output.js';
import type { Tool, ToolConfig } from './types.js';

/** What providers accept as a function name (OpenAI's and Anthropic's common subset). */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines a tool the model can call. The JSON schema sent to the model is derived from the zod
 * `parameters` (an object schema); the model's arguments are validated against the same schema
 * before `execute` runs.
 *
 * ```ts
 * const weather = defineTool({
 *   name: 'get_weather',
 *   description: 'Current weather for a city',
 *   parameters: z.object({ city: z.string() }),
 *   execute: async ({ city }, { signal }) => fetchWeather(city, { signal }),
 * });
 * ```
 */
export function defineTool<A, R>(config: ToolConfig<A, R>): Tool<A, R> {
  if (typeof config !== 'object' || config === null) throw new InvalidArgumentError('config', 'must be an object');
  const { name, description = '', parameters, execute, metadata = {}, toModelOutput = defaultToModelOutput } = config;
  validateToolName(name, 'name');
  if (typeof description !== 'string') throw new InvalidArgumentError('description', 'must be a string');
  if (!isZodSchema(parameters)) throw new InvalidArgumentError('parameters', 'must be a zod schema (z.object({ ... }))');
  if (typeof execute !== 'function') throw new InvalidArgumentError('execute', 'must be a function');
  if (typeof toModelOutput !== 'function') throw new InvalidArgumentError('toModelOutput', 'must be a function');
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidArgumentError('metadata', 'must be a plain object');
  }
  const jsonSchema = toolJsonSchema(name, parameters);
  const definition: ToolDefinition = Object.freeze(
    description === '' ? { name, parameters: jsonSchema } : { name, description, parameters: jsonSchema },
  );
  return Object.freeze({
    name,
    description,
    parameters,
    jsonSchema,
    execute,
    metadata: Object.freeze({ ...metadata }),
    toModelOutput,
    definition: () => definition,
  });
}

/** Throws `InvalidArgumentError` unless `name` matches `TOOL_NAME_PATTERN`. */
export function validateToolName(name: unknown, argument = 'name'): asserts name is string {
  if (typeof name !== 'string' || !TOOL_NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(argument, `a tool name must match ${TOOL_NAME_PATTERN} (letters, digits, '_' and '-', 1 to 64), got ${JSON.stringify(name)}`);
  }
}

function isZodSchema(value: unknown): value is ZodType {
  return typeof value === 'object' && value !== null && typeof (value as { safeParseAsync?: unknown }).safeParseAsync === 'function' && '_zod' in value;
}

function toolJsonSchema(name: string, parameters: ZodType): JsonSchema {
  let schema: JsonSchema;
  try {
    // The model writes the arguments, so the schema describes the input side (defaults optional).
    schema = z.toJSONSchema(parameters, { io: 'input' }) as JsonSchema;
  } catch (error) {
    throw new InvalidArgumentError('parameters', `tool '${name}': ${error instanceof Error ? error.message : String(error)}`, error);
  }
  delete schema.$schema;
  if (schema.type !== 'object') {
    throw new InvalidArgumentError('parameters', `tool '${name}': parameters must be an object schema (z.object), got type ${JSON.stringify(schema.type)}`);
  }
  return Object.freeze(schema);
}
