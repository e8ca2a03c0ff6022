import type { ZodType } from 'zod';
import { ToolArgumentsError } from '../errors/agent-errors.js';
import type { ToolCall } from '../types/messages.js';

export type ParsedToolArguments = { ok: true; args: unknown } | { ok: false; error: ToolArgumentsError };

/** At most this many schema issues are described to the model. */
const MAX_ISSUES = 5;

/**
 * Parses a model's raw JSON arguments and validates them against the tool's schema. Never
 * throws: a failure comes back as a `ToolArgumentsError` whose message is short enough to send
 * to the model so it can repair the call. Empty arguments count as `{}` (some providers send ''
 * for a call without parameters).
 */
export async function parseToolArguments(schema: ZodType, toolCall: ToolCall): Promise<ParsedToolArguments> {
  if (typeof toolCall.arguments !== 'string') {
    return { ok: false, error: new ToolArgumentsError(toolCall.name, toolCall.id, 'arguments must be a JSON text') };
  }
  const raw = toolCall.arguments.trim();
  let value: unknown;
  try {
    value = raw === '' ? {} : JSON.parse(raw);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: new ToolArgumentsError(toolCall.name, toolCall.id, `arguments are not valid JSON (${reason})`) };
  }
  const result = await schema.safeParseAsync(value);
  if (result.success) return { ok: true, args: result.data };
  const issues = result.error.issues;
  return { ok: false, error: new ToolArgumentsError(toolCall.name, toolCall.id, describeIssues(issues), issues) };
}

/** `city: expected string, received number; units: ...` — one line per issue, bounded. */
export function describeIssues(issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>): string {
  const shown = issues.slice(0, MAX_ISSUES).map((i) => `${formatPath(i.path)}: ${i.message.replace(/^Invalid (?:input|option): /, '')}`);
  const more = issues.length > MAX_ISSUES ? `; and ${issues.length - MAX_ISSUES} more` : '';
  return `${shown.join('; ')}${more}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out;
}
