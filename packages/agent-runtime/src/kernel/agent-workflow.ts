import type { Agent, AgentBudget, Message } from '@baton/llm-client';
import { UnknownWorkflowError } from '../errors/kernel-errors.js';
import type { JsonValue } from '../jobs/json-value.js';
import type { JobContext } from './job-context.js';
import { AgentInputSchema } from './execution-request.js';
import type { Workflow } from './job-runner.js';
import type { PreviousContext } from './run-control.js';
import { InvalidArgumentError } from '@baton/llm-client';

/**
 * The default workflow: runs one of the kernel's agents on the job's input as durable steps.
 * A job started by interrupting another gets that job's partial results as context.
 */
export function agentWorkflow(getAgent: (name: string) => Agent | undefined): Workflow {
  return async (ctx: JobContext, input: JsonValue) => {
    const name = ctx.agentName ?? 'default';
    const agent = getAgent(name);
    if (!agent) throw new UnknownWorkflowError(`agent:${name}`, ctx.jobId);
    const parsed = AgentInputSchema.safeParse(input);
    if (!parsed.success) throw new InvalidArgumentError('input', 'the agent workflow takes a message string or { message, history }');
    const message = typeof parsed.data === 'string' ? parsed.data : parsed.data.message;
    const history: Message[] = typeof parsed.data === 'string' ? [] : [...(parsed.data.history ?? [])];
    if (ctx.previousContext) history.push(...previousContextMessages(ctx.previousContext));
    const result = await ctx.runAgent(agent, message, { history, budget: agentBudget(ctx) });
    return {
      text: result.text,
      turns: result.turns,
      usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens, totalTokens: result.usage.totalTokens },
      cost: result.cost.usd,
    };
  };
}

/** The job's budget as the agent enforces it per run. */
function agentBudget(ctx: JobContext): AgentBudget {
  const b = ctx.executionContext.budgets;
  const out: AgentBudget = {};
  if (b.maxTokens !== undefined) out.maxTokens = b.maxTokens;
  if (b.maxCost !== undefined) out.maxCostUsd = b.maxCost;
  if (b.maxTurns !== undefined) out.maxTurns = b.maxTurns;
  if (b.maxToolCalls !== undefined) out.maxToolCalls = b.maxToolCalls;
  if (b.maxRuntimeSeconds !== undefined) out.maxRuntimeMs = b.maxRuntimeSeconds * 1000;
  return out;
}

/** How an interrupted answer is handed to the next job: the user's earlier message and what had been said. */
export function previousContextMessages(previous: PreviousContext): Message[] {
  const earlier = typeof previous.input === 'string' ? previous.input : typeof previous.input === 'object' && previous.input !== null && 'message' in previous.input ? String((previous.input as { message: unknown }).message) : JSON.stringify(previous.input);
  const messages: Message[] = [{ role: 'user', content: earlier }];
  const parts: string[] = [];
  // What the assistant had said in finished model calls, then the tools it had run.
  for (const step of previous.completedSteps) {
    const text = step.kind === 'model' && typeof step.output === 'object' && step.output !== null ? (step.output as { text?: unknown }).text : undefined;
    if (typeof text === 'string' && text.trim()) parts.push(text.trim());
  }
  const tools = previous.completedSteps.filter((s) => s.kind === 'tool');
  if (tools.length > 0) parts.push(`[finished tool calls: ${tools.map((t) => t.name).join(', ')}]`);
  if (previous.partialText) parts.push(previous.partialText);
  messages.push({ role: 'assistant', content: `${parts.join('\n')}\n[interrupted by the user's next message]`.trim() });
  return messages;
}
