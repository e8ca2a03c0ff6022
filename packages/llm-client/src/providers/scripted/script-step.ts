import { InvalidArgumentError } from '../../errors/index.js';
import type { FinishReason, ToolCall, Usage } from '../../types/messages.js';
import type { ModelRequest } from '../../types/model.js';

/** A tool call in a script; `arguments` as an object (serialized to JSON) or as raw JSON text. */
export interface ScriptedToolCall {
  name: string;
  arguments: Record<string, unknown> | unknown[] | string;
  /** Defaults to `call_<callIndex>_<position>`. */
  id?: string;
}

/** One scripted answer. */
export interface ScriptedAnswer {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  /** Defaults to 'tool-calls' when there are tool calls, else 'stop'. */
  finishReason?: FinishReason;
  /** Overrides the computed usage, field by field. */
  usage?: Partial<Usage>;
  /**
   * Thrown as given. `complete()` rejects with it; `stream()` first streams `text` (if any),
   * then throws it, as a connection cut mid-answer would.
   */
  error?: unknown;
  /** Wait before the first event (time to first token). */
  delayMs?: number;
  /** Per-token delay for this step; overrides the provider's `tokenDelayMs`. */
  tokenDelayMs?: number;
}

/** A string (the answer's text) or a full answer. */
export type ScriptStep = string | ScriptedAnswer;

/** Computes the step for a call; `callIndex` counts calls to this provider from 0. */
export type ScriptFunction = (request: ModelRequest, callIndex: number) => ScriptStep | Promise<ScriptStep>;

/** A step checked and filled in, ready to play. */
export interface ResolvedAnswer {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usageOverride: Partial<Usage> | undefined;
  error: unknown;
  hasError: boolean;
  delayMs: number;
  tokenDelayMs: number;
}

const FINISH_REASONS: ReadonlySet<string> = new Set(['stop', 'length', 'tool-calls', 'content-filter', 'error', 'other']);

/** Checks a step's shape; throws `InvalidArgumentError` naming `where` on a bad one. */
export function validateStep(step: unknown, where: string): asserts step is ScriptStep {
  if (typeof step === 'string') return;
  if (typeof step !== 'object' || step === null || Array.isArray(step)) {
    throw new InvalidArgumentError(where, `a script step must be a string or an object, got ${describe(step)}`);
  }
  const s = step as Record<string, unknown>;
  if (s.text !== undefined && typeof s.text !== 'string') throw new InvalidArgumentError(`${where}.text`, 'must be a string');
  if (s.finishReason !== undefined && !FINISH_REASONS.has(s.finishReason as string)) {
    throw new InvalidArgumentError(`${where}.finishReason`, `must be one of ${[...FINISH_REASONS].join(', ')}`);
  }
  checkDelay(s.delayMs, `${where}.delayMs`);
  checkDelay(s.tokenDelayMs, `${where}.tokenDelayMs`);
  if (s.usage !== undefined) {
    if (typeof s.usage !== 'object' || s.usage === null) throw new InvalidArgumentError(`${where}.usage`, 'must be an object');
    for (const [k, v] of Object.entries(s.usage)) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`${where}.usage.${k}`, 'must be a non-negative integer');
    }
  }
  if (s.toolCalls !== undefined) {
    if (!Array.isArray(s.toolCalls)) throw new InvalidArgumentError(`${where}.toolCalls`, 'must be an array');
    s.toolCalls.forEach((call: unknown, i) => {
      const at = `${where}.toolCalls[${i}]`;
      if (typeof call !== 'object' || call === null) throw new InvalidArgumentError(at, 'must be an object');
      const c = call as Record<string, unknown>;
      if (typeof c.name !== 'string' || c.name === '') throw new InvalidArgumentError(`${at}.name`, 'must be a non-empty string');
      if (c.id !== undefined && (typeof c.id !== 'string' || c.id === '')) throw new InvalidArgumentError(`${at}.id`, 'must be a non-empty string');
      if (typeof c.arguments !== 'string' && (typeof c.arguments !== 'object' || c.arguments === null)) {
        throw new InvalidArgumentError(`${at}.arguments`, 'must be an object or a JSON string');
      }
    });
  }
}

export function checkDelay(value: unknown, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(name, `must be a finite number >= 0, got ${describe(value)}`);
  }
}

/** Fills in defaults: ids, JSON arguments, finish reason and delays. */
export function resolveStep(step: ScriptStep, callIndex: number, defaultTokenDelayMs: number): ResolvedAnswer {
  if (typeof step === 'string') {
    return { text: step, toolCalls: [], finishReason: 'stop', usageOverride: undefined, error: undefined, hasError: false, delayMs: 0, tokenDelayMs: defaultTokenDelayMs };
  }
  const toolCalls: ToolCall[] = (step.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `call_${callIndex}_${i}`,
    name: c.name,
    arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
  }));
  return {
    text: step.text ?? '',
    toolCalls,
    finishReason: step.finishReason ?? (toolCalls.length > 0 ? 'tool-calls' : 'stop'),
    usageOverride: step.usage,
    error: step.error,
    hasError: 'error' in step && step.error !== undefined,
    delayMs: step.delayMs ?? 0,
    tokenDelayMs: step.tokenDelayMs ?? defaultTokenDelayMs,
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'number' ? String(value) : typeof value;
}
