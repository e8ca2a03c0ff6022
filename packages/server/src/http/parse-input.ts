import type { z } from 'zod';
import { InvalidRequestError } from '../errors/invalid-request-error.js';

/**
 * Parses request input with a zod schema; a failure is an `InvalidRequestError` naming the
 * first bad field (`message`, `history.0.role`; query fields as `query.limit`).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const keys = issue && issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = [...(issue?.path ?? []), ...(keys.length === 1 ? keys : [])].map(String).join('.');
  const field = where === 'query' ? `query${path ? `.${path}` : ''}` : path || undefined;
  const message = `${where}${path ? `.${path}` : ''}: ${issue?.message ?? 'invalid'}`;
  return fail(new InvalidRequestError({ message, field, cause: parsed.error }));
}

/** Reads a JSON body; an empty body is `{}` when `emptyAsObject`, malformed JSON is a 400 `invalid_json`. */
export async function readJson(request: { text(): Promise<string> }, options: { emptyAsObject?: boolean } = {}): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === '') {
    if (options.emptyAsObject) return {};
    throw new InvalidRequestError({ code: 'invalid_json', message: 'body: a JSON body is required' });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidRequestError({ code: 'invalid_json', message: `body: not valid JSON (${(error as Error).message})`, cause: error });
  }
}

function fail(error: InvalidRequestError): never {
  throw error;
}
