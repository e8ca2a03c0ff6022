import { z, type ZodType } from 'zod';
import { OutputValidationError } from '../errors/engine-errors.js';
import type { JsonSchema } from '../types/model.js';

const schemas = new WeakMap<ZodType, JsonSchema>();

/** The JSON schema sent to the model for `schema` (computed once per schema object). */
export function outputJsonSchema(schema: ZodType): JsonSchema {
  let json = schemas.get(schema);
  if (json === undefined) {
    json = z.toJSONSchema(schema) as JsonSchema;
    schemas.set(schema, json);
  }
  return json;
}

const FENCE = /^\s*```[a-zA-Z0-9_-]*[ \t]*\r?\n([\s\S]*?)\r?\n?```\s*$/;

/** The JSON text inside a model answer, tolerating a Markdown code fence (```json ... ```). */
export function stripJsonFence(text: string): string {
  const m = FENCE.exec(text);
  return (m?.[1] ?? text).trim();
}

/**
 * Parses a model's answer as JSON and validates it with `schema`. Throws
 * `OutputValidationError` naming the issues when the text is not JSON or does not match.
 */
export function parseStructuredOutput<O>(schema: ZodType<O>, text: string): O {
  let value: unknown;
  try {
    value = JSON.parse(stripJsonFence(text));
  } catch (error) {
    throw new OutputValidationError(text, [{ path: [], message: `not valid JSON (${(error as Error).message})` }], error);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new OutputValidationError(text, parsed.error.issues, parsed.error);
  return parsed.data;
}
