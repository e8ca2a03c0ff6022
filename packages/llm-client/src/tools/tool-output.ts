import { BatonError } from '../errors/baton-error.js';

/** Strings go to the model as they are; anything else as JSON (`undefined` as an empty string). */
export function defaultToModelOutput(output: unknown): string {
  if (typeof output === 'string') return output;
  if (output === undefined) return '';
  try {
    return JSON.stringify(output) ?? String(output);
  } catch {
    return String(output);
  }
}

/**
 * The text a tool error shows the model: the error's message, never its stack or cause chain
 * (which may hold internals the model should not see).
 */
export function toolErrorContent(error: unknown): string {
  if (BatonError.isInstance(error) || error instanceof Error) return `Error: ${error.message}`;
  return `Error: ${String(error)}`;
}
