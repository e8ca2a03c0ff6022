import { InvalidArgumentError, type Agent, type AgentBudget, type AgentResult, type Message } from '@baton/llm-client';
import type { JsonValue } from '../jobs/json-value.js';
import type { OperatorContext } from './operator-context.js';
import { checkOperatorName, type Operator, type OperatorResult } from './operator.js';

export interface AgentOperatorOptions<I, O> {
  /** Default: the agent's name, else `agent`. */
  name?: string;
  /** The message sent to the agent; default: a string input as is, anything else as JSON. */
  prompt?: (input: I) => string | Message[];
  /** Conversation placed before the prompt. */
  history?: (input: I) => Message[];
  budget?: AgentBudget;
  /** The operator's output from the agent's result; default: the answer text. */
  output?: (result: AgentResult, input: I) => O;
}

/**
 * An operator that runs an agent: every model call and tool call of the run is a journaled
 * step of the job (policy, budgets and approvals apply as in any job), and its output is the
 * agent's answer.
 */
export function agentOperator<I = JsonValue, O = string>(agent: Agent, options: AgentOperatorOptions<I, O> = {}): Operator<I, O> {
  if (typeof agent !== 'object' || agent === null || typeof (agent as { stream?: unknown }).stream !== 'function') {
    throw new InvalidArgumentError('agent', 'must be an Agent');
  }
  const name = checkOperatorName(options.name ?? (agent.name || 'agent'));
  const prompt = options.prompt ?? ((input: I) => (typeof input === 'string' ? input : JSON.stringify(input ?? null)));
  return {
    name,
    async execute(input: I, ctx: OperatorContext): Promise<OperatorResult<O>> {
      const result = await ctx.runAgent(agent, prompt(input), {
        ...(options.history ? { history: options.history(input) } : {}),
        ...(options.budget ? { budget: options.budget } : {}),
      });
      const output = options.output ? options.output(result, input) : (result.text as unknown as O);
      return {
        output,
        usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens, totalTokens: result.usage.totalTokens },
        metadata: { turns: result.turns },
      };
    },
  };
}

/**
 * An operator from a function. Its result is journaled once (so a non-deterministic function —
 * a clock, a random pick, an HTTP call — gives the same answer on every run of the job); the
 * function may take steps of its own through the context it gets.
 */
export function fnOperator<I = JsonValue, O = JsonValue>(name: string, fn: (input: I, ctx: OperatorContext) => O | Promise<O>): Operator<I, O> {
  checkOperatorName(name);
  if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'must be a function (input, ctx) => output');
  return {
    name,
    async execute(input: I, ctx: OperatorContext): Promise<OperatorResult<O>> {
      return { output: await fn(input, ctx) };
    },
  };
}
