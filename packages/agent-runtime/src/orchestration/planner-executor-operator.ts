import { InvalidArgumentError } from '@baton/llm-client';
import type { JsonValue } from '../jobs/json-value.js';
import type { OperatorContext } from './operator-context.js';
import { checkOperator, checkOperatorName, checkPositiveInt, sumUsage, type Operator, type OperatorResult } from './operator.js';
import { runConcurrently } from './run-concurrently.js';

/** What the executor gets for each planned step. */
export interface PlannedStepInput<I = unknown> {
  goal: I;
  step: unknown;
  index: number;
  /** Outputs of the steps before this one (empty when steps run in parallel). */
  previous: unknown[];
}

/** What the synthesizer gets. */
export interface SynthesisInput<I = unknown> {
  goal: I;
  plan: unknown[];
  results: unknown[];
}

export interface PlannerExecutorOperatorOptions<I, O> {
  name: string;
  /** Produces the plan: an array, `{ steps: [...] }`, JSON text of either, or a numbered/bulleted list. */
  planner: Operator<any, any>;
  /** Runs once per planned step. */
  executor: Operator<any, any>;
  /** Turns the results into the answer; default: the output is `{ plan, results }`. */
  synthesizer?: Operator<any, any>;
  /** Parses the planner's output into steps; default `parsePlan`. */
  parsePlan?: (output: unknown) => unknown[];
  /** Plans longer than this are cut (default 20). */
  maxSteps?: number;
  /** Independent steps at once (default 1: in order, each seeing the previous results). */
  maxParallel?: number;
  /** The message sent to an executor, when it is an agent; default: `PlannedStepInput` as given. */
  stepInput?: (input: PlannedStepInput<I>) => unknown;
}

/**
 * Plan, then execute each planned step, then (optionally) synthesize. The plan and every
 * step's result are journaled: a job resumed mid-plan continues with the first unfinished step.
 */
export class PlannerExecutorOperator<I = JsonValue, O = JsonValue> implements Operator<I, O> {
  readonly name: string;
  private readonly options: PlannerExecutorOperatorOptions<I, O>;

  constructor(options: PlannerExecutorOperatorOptions<I, O>) {
    this.name = checkOperatorName(options?.name);
    checkOperator(options.planner, 'planner');
    checkOperator(options.executor, 'executor');
    if (options.synthesizer !== undefined) checkOperator(options.synthesizer, 'synthesizer');
    checkPositiveInt(options.maxSteps, 'maxSteps');
    checkPositiveInt(options.maxParallel, 'maxParallel');
    if (options.parsePlan !== undefined && typeof options.parsePlan !== 'function') throw new InvalidArgumentError('parsePlan', 'must be a function');
    this.options = { ...options };
  }

  async execute(input: I, ctx: OperatorContext): Promise<OperatorResult<O>> {
    const { planner, executor, synthesizer } = this.options;
    const planned = await ctx.run(planner, input);
    const plan = (this.options.parsePlan ?? parsePlan)(planned.output).slice(0, this.options.maxSteps ?? 20);
    const ids = ctx.reserveMany(plan.length);
    const parallel = (this.options.maxParallel ?? 1) > 1;
    const stepResults: Array<OperatorResult<unknown>> = [];
    const toInput = (index: number, previous: unknown[]) => {
      const raw: PlannedStepInput<I> = { goal: input, step: plan[index], index, previous };
      return this.options.stepInput ? this.options.stepInput(raw) : raw;
    };
    if (parallel) {
      const all = await runConcurrently(plan.length, (i, signal) => ctx.run(executor, toInput(i, []), { at: ids[i]!, signal }), { maxParallel: this.options.maxParallel, signal: ctx.signal });
      stepResults.push(...all);
    } else {
      for (let i = 0; i < plan.length; i++) {
        stepResults.push(await ctx.run(executor, toInput(i, stepResults.map((r) => r.output)), { at: ids[i]! }));
      }
    }
    const results = stepResults.map((r) => r.output);
    if (!synthesizer) {
      return { output: { plan, results } as O, usage: sumUsage([planned, ...stepResults]), metadata: { steps: plan.length } };
    }
    const synthesis: SynthesisInput<I> = { goal: input, plan, results };
    const final = await ctx.run(synthesizer, synthesis);
    return { output: final.output as O, usage: sumUsage([planned, ...stepResults, final]), metadata: { steps: plan.length } };
  }
}

/**
 * Reads a plan from a planner's output: an array; an object with a `steps` array; JSON text of
 * either; or text with one step per line (leading `1.`, `2)`, `-`, `*` removed, blank lines skipped).
 */
export function parsePlan(output: unknown): unknown[] {
  if (Array.isArray(output)) return output;
  if (typeof output === 'object' && output !== null && Array.isArray((output as { steps?: unknown }).steps)) return (output as { steps: unknown[] }).steps;
  if (typeof output !== 'string') return output === null || output === undefined ? [] : [output];
  const text = output.trim();
  if (text.startsWith('[') || text.startsWith('{')) {
    try {
      return parsePlan(JSON.parse(text) as unknown);
    } catch {
      // Not JSON: read it as lines.
    }
  }
  return text
    .split('\n')
    .map((line) => line.trim().replace(/^(\d+[.)]|[-*•])\s*/, '').trim())
    .filter((line) => line.length > 0);
}
