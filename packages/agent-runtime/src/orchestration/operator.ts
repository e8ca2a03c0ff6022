import { InvalidArgumentError } from '@baton/llm-client';
import type { JsonObject, JsonValue } from '../jobs/json-value.js';
import type { OperatorContext } from './operator-context.js';

/** Tokens an operator's model calls used (summed over nested operators). */
export interface OperatorUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/**
 * What an operator produced. `output` is journaled as the operator's step result, so it must be
 * JSON; `metadata` says how it was obtained (the route taken, the rounds run, …).
 */
export interface OperatorResult<O = JsonValue> {
  output: O;
  usage?: OperatorUsage | undefined;
  metadata?: JsonObject | undefined;
}

/**
 * A unit of multi-agent work: an agent, a function, or a pattern composed of operators. Run it
 * through `OperatorContext.run` (or `runOperator` at the top of a job): its result is journaled,
 * and its own steps (model calls, tool calls, waits, nested operators) are journaled under its
 * step id, so a resumed job does not run a finished operator again.
 */
export interface Operator<I = JsonValue, O = JsonValue> {
  readonly name: string;
  execute(input: I, ctx: OperatorContext): Promise<OperatorResult<O>>;
}

const ZERO: OperatorUsage = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });

/** Sums the usage of several results (absent usage counts as zero); `undefined` when none had any. */
export function sumUsage(results: ReadonlyArray<{ usage?: OperatorUsage | undefined } | undefined>): OperatorUsage | undefined {
  let any = false;
  const total = { ...ZERO };
  for (const r of results) {
    if (!r?.usage) continue;
    any = true;
    total.inputTokens += r.usage.inputTokens;
    total.outputTokens += r.usage.outputTokens;
    total.totalTokens += r.usage.totalTokens;
  }
  return any ? total : undefined;
}

/** Checks an operator's name: a non-empty string (it names the operator's steps in the journal). */
export function checkOperatorName(name: unknown, argument = 'name'): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new InvalidArgumentError(argument, 'must be a non-empty string of at most 200 characters');
  }
  return name;
}

/** Checks that `value` looks like an operator. */
export function checkOperator(value: unknown, argument: string): void {
  const op = value as Partial<Operator<unknown, unknown>> | undefined;
  if (typeof op !== 'object' || op === null || typeof op.name !== 'string' || typeof op.execute !== 'function') {
    throw new InvalidArgumentError(argument, 'must be an Operator ({ name, execute(input, ctx) })');
  }
}

/** Checks an optional positive integer option. */
export function checkPositiveInt(value: unknown, argument: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidArgumentError(argument, 'must be an integer ≥ 1');
}
