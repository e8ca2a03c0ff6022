import { MaxTurnsExceededError, ToolNotFoundError, ToolRepairLimitError } from '../errors/agent-errors.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { addUsage, emptyUsage, type AssistantMessage, type Message, type ToolCall } from '../types/messages.js';
import type { ModelRequest, ModelResponse, ModelStreamEvent } from '../types/model.js';
import { formatNanoUsd } from '../types/pricing.js';
import type { RequestContext } from '../types/request-context.js';
import type { ModelHandler, ToolHandler } from '../middleware/compose.js';
import { parseToolArguments } from '../tools/parse-tool-arguments.js';
import { toolErrorContent } from '../tools/tool-output.js';
import type { ToolSet } from '../tools/tool-set.js';
import { raceAbort, throwIfAborted } from './abort.js';
import type { AgentBudget, AgentResult, AgentStep, AgentStreamEvent, ModelCallContext, RunState, ToolCallContext, ToolResult } from './types.js';

/** Everything one run needs, resolved by `Agent`. */
export interface AgentRunSetup {
  agentName: string;
  tools: ToolSet;
  maxTurns: number;
  maxToolRepairs: number;
  parallelToolCalls: boolean;
  modelHandler: ModelHandler;
  toolHandler: ToolHandler;
  /** Model id and settings; `messages` and `tools` are added per call. */
  requestBase: Omit<ModelRequest, 'messages' | 'tools'>;
  messages: Message[];
  context: RequestContext;
  signal: AbortSignal;
  budget: Readonly<AgentBudget>;
  runId: string;
  now: () => number;
  /** Set when the run streams. */
  sink: ((event: AgentStreamEvent) => void) | undefined;
}

/** A tool call of the current turn, with its index and, when it never reaches `execute`, its result. */
interface PlannedCall {
  toolCall: ToolCall;
  callIndex: number;
  ctx: ToolCallContext | undefined;
  early: ToolResult | undefined;
}

/** One run of the model/tool loop. Used once. */
export class AgentRun {
  private readonly state: RunState & { messages: Message[] };
  private readonly steps: AgentStep[] = [];
  private readonly repairs = new Map<string, number>();
  private callIndex = 0;

  constructor(private readonly setup: AgentRunSetup) {
    this.state = {
      runId: setup.runId,
      turn: 0,
      toolCalls: 0,
      usage: emptyUsage(),
      costNanoUsd: 0,
      startedAt: setup.now(),
      messages: setup.messages,
      budget: setup.budget,
    };
  }

  async execute(): Promise<AgentResult> {
    const { signal, sink, maxTurns } = this.setup;
    throwIfAborted(signal);
    sink?.({ type: 'run-start', runId: this.state.runId });
    for (let turn = 1; ; turn++) {
      if (turn > maxTurns) throw new MaxTurnsExceededError(maxTurns);
      this.state.turn = turn;
      sink?.({ type: 'turn-start', turn });
      const response = await this.callModel(turn);
      const assistant: AssistantMessage = { role: 'assistant', content: response.text };
      if (response.toolCalls.length > 0) assistant.toolCalls = response.toolCalls;
      this.state.messages.push(assistant);
      sink?.({ type: 'turn-finish', turn, response });
      if (response.toolCalls.length === 0) return this.finish({ status: 'completed', text: response.text });

      const results = await this.callTools(turn, response.toolCalls);
      let suspension: AgentResult['suspension'];
      for (const [i, result] of results.entries()) {
        const toolCall = response.toolCalls[i]!;
        if (result.type === 'suspend') {
          suspension ??= result.data === undefined ? { toolCall, reason: result.reason } : { toolCall, reason: result.reason, data: result.data };
          continue;
        }
        this.state.messages.push({
          role: 'tool',
          toolCallId: toolCall.id,
          toolName: toolCall.name,
          content: result.content,
          ...(result.type === 'error' ? { isError: true } : {}),
        });
      }
      if (suspension) return this.finish({ status: 'suspended', text: '', suspension });
    }
  }

  private finish(outcome: Pick<AgentResult, 'status' | 'text' | 'suspension'>): AgentResult {
    const result: AgentResult = {
      ...outcome,
      messages: this.state.messages,
      steps: this.steps,
      usage: this.state.usage,
      cost: { nanoUsd: this.state.costNanoUsd, usd: formatNanoUsd(this.state.costNanoUsd) },
      turns: this.state.turn,
    };
    if (result.suspension === undefined) delete result.suspension;
    this.setup.sink?.({ type: 'run-finish', result });
    return result;
  }

  private async callModel(turn: number): Promise<ModelResponse> {
    const { setup, state } = this;
    const callIndex = this.callIndex++;
    const request: ModelRequest = { ...setup.requestBase, messages: state.messages.slice() };
    if (setup.tools.size > 0) request.tools = setup.tools.definitions.slice();
    const ctx: ModelCallContext = {
      kind: 'model',
      callIndex,
      turn,
      context: setup.context,
      signal: setup.signal,
      state,
      agentName: setup.agentName,
      request,
    };
    if (setup.context.jobId !== undefined) ctx.idempotencyKey = `${setup.context.jobId}:${callIndex}`;
    const forwarded = setup.sink ? new ForwardedEvents(setup.sink, turn) : undefined;
    if (forwarded) (ctx as { emit?: (e: ModelStreamEvent) => void }).emit = forwarded.emit;

    throwIfAborted(setup.signal);
    const startedAt = setup.now();
    let response: ModelResponse;
    try {
      response = checkResponse(await raceAbort(setup.modelHandler(ctx), setup.signal));
    } finally {
      forwarded?.close();
    }
    state.usage = addUsage(state.usage, response.usage);
    state.costNanoUsd += response.cost?.nanoUsd ?? 0;
    this.steps.push({ callIndex, turn, kind: 'model', startedAt, durationMs: setup.now() - startedAt, response });
    // A middleware that answered without streaming (a replay) still yields a complete stream.
    forwarded?.completeFrom(response);
    return response;
  }

  /** Plans the turn's tool calls (indexes first, so a replay assigns the same ones), then runs them. */
  private async callTools(turn: number, toolCalls: readonly ToolCall[]): Promise<ToolResult[]> {
    const planned: PlannedCall[] = [];
    for (const toolCall of toolCalls) planned.push(await this.plan(turn, toolCall, this.callIndex++));
    const results: ToolResult[] = new Array(planned.length);
    if (this.setup.parallelToolCalls && planned.length > 1) {
      const settled = await Promise.allSettled(planned.map((p) => this.callTool(turn, p)));
      for (const [i, s] of settled.entries()) {
        if (s.status === 'rejected') throw s.reason;
        results[i] = s.value;
      }
    } else {
      for (const [i, p] of planned.entries()) results[i] = await this.callTool(turn, p);
    }
    return results;
  }

  private async plan(turn: number, toolCall: ToolCall, callIndex: number): Promise<PlannedCall> {
    const { setup } = this;
    const tool = setup.tools.get(toolCall.name);
    if (tool === undefined) {
      const error = new ToolNotFoundError(toolCall.name);
      const available = setup.tools.size > 0 ? ` Available tools: ${setup.tools.list().map((t) => t.name).join(', ')}.` : ' No tools are available.';
      return { toolCall, callIndex, ctx: undefined, early: { type: 'error', error, content: `${toolErrorContent(error)}.${available}` } };
    }
    const parsed = await parseToolArguments(tool.parameters, toolCall);
    if (!parsed.ok) {
      const attempts = (this.repairs.get(tool.name) ?? 0) + 1;
      this.repairs.set(tool.name, attempts);
      if (attempts > setup.maxToolRepairs) throw new ToolRepairLimitError(tool.name, attempts, parsed.error);
      const content = `${toolErrorContent(parsed.error)}. Call the tool again with arguments that match its schema.`;
      return { toolCall, callIndex, ctx: undefined, early: { type: 'error', error: parsed.error, content } };
    }
    const ctx: ToolCallContext = {
      kind: 'tool',
      callIndex,
      turn,
      context: setup.context,
      signal: setup.signal,
      state: this.state,
      agentName: setup.agentName,
      toolCall,
      tool,
      args: parsed.args,
      idempotencyKey: `${setup.context.jobId ?? setup.context.requestId}:${callIndex}`,
    };
    return { toolCall, callIndex, ctx, early: undefined };
  }

  private async callTool(turn: number, { toolCall, callIndex, ctx, early }: PlannedCall): Promise<ToolResult> {
    const { setup } = this;
    const startedAt = setup.now();
    let result: ToolResult;
    if (ctx === undefined) {
      result = early!;
    } else {
      throwIfAborted(setup.signal);
      this.state.toolCalls++;
      result = checkToolResult(await raceAbort(setup.toolHandler(ctx), setup.signal), toolCall);
    }
    const durationMs = setup.now() - startedAt;
    this.steps.push({ callIndex, turn, kind: 'tool', startedAt, durationMs, toolCall, result });
    setup.sink?.({ type: 'tool-result', turn, toolCall, result, durationMs });
    return result;
  }
}

/**
 * Forwards a model call's stream events to the run's stream, and afterwards fills in what a
 * middleware answering without streaming did not emit (the text, the tool calls).
 */
class ForwardedEvents {
  private text = false;
  private readonly toolCalls = new Set<string>();
  private open = true;

  constructor(
    private readonly sink: (event: AgentStreamEvent) => void,
    private readonly turn: number,
  ) {}

  readonly emit = (event: ModelStreamEvent): void => {
    if (!this.open) return;
    const turn = this.turn;
    switch (event.type) {
      case 'text-delta':
        this.text = true;
        this.sink({ type: 'text-delta', turn, delta: event.delta });
        return;
      case 'tool-call-start':
        this.sink({ type: 'tool-call-start', turn, toolCallId: event.toolCallId, toolName: event.toolName });
        return;
      case 'tool-call-delta':
        this.sink({ type: 'tool-call-delta', turn, toolCallId: event.toolCallId, argumentsDelta: event.argumentsDelta });
        return;
      case 'tool-call':
        this.toolCalls.add(event.toolCall.id);
        this.sink({ type: 'tool-call', turn, toolCall: event.toolCall });
        return;
      case 'stream-start':
      case 'finish':
        return;
      default: {
        const never: never = event;
        return never;
      }
    }
  };

  close(): void {
    this.open = false;
  }

  completeFrom(response: ModelResponse): void {
    if (!this.text && response.text !== '') this.sink({ type: 'text-delta', turn: this.turn, delta: response.text });
    for (const toolCall of response.toolCalls) {
      if (!this.toolCalls.has(toolCall.id)) this.sink({ type: 'tool-call', turn: this.turn, toolCall });
    }
  }
}

/** A response from a middleware (a replay, say) is used like a real one, so check its shape. */
function checkResponse(response: ModelResponse): ModelResponse {
  if (typeof response !== 'object' || response === null || typeof response.text !== 'string' || typeof response.usage !== 'object') {
    throw new InvalidArgumentError('middleware', 'a model middleware returned something that is not a ModelResponse');
  }
  if (!Array.isArray(response.toolCalls)) return { ...response, toolCalls: [] };
  return response;
}

function checkToolResult(result: ToolResult, toolCall: ToolCall): ToolResult {
  const type = (result as { type?: unknown } | null)?.type;
  if (type === 'output' || type === 'error') {
    if (typeof (result as { content?: unknown }).content !== 'string') throw new InvalidArgumentError('middleware', `the result of tool call '${toolCall.id}' has no string content`);
    return result;
  }
  if (type === 'suspend') return result;
  throw new InvalidArgumentError('middleware', `a tool middleware returned something that is not a ToolResult for '${toolCall.id}'`);
}
