import type { WireAnswer } from './wire-types.js';

export function argumentsText(args: Record<string, unknown> | string): string {
  return typeof args === 'string' ? args : JSON.stringify(args);
}

export function argumentsObject(args: Record<string, unknown> | string): unknown {
  return typeof args === 'string' ? JSON.parse(args) : args;
}

/** Splits a string into pieces of at most `size` characters (at least one piece when non-empty). */
export function chunkString(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Default output tokens: ceil(chars / 4) of the text and the tool calls. */
export function outputTokens(answer: WireAnswer): number {
  let chars = (answer.text ?? '').length;
  for (const c of answer.toolCalls ?? []) chars += c.name.length + argumentsText(c.arguments).length;
  return Math.max(1, Math.ceil(chars / 4));
}
