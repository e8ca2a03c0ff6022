import type { BudgetKind } from '../errors/agent-errors.js';
import type { Message, ToolCall, Usage } from '../types/messages.js';
import type { ModelRequest, ModelResponse, ModelStreamEvent } from '../types/model.js';
import type { Cost } from '../types/pricing.js';
import type { RequestContext } from '../types/request-context.js';
import type { Tool } from '../tools/types.js';
import type { ModelExecutor } from '../engine/types.js';
import type { DefaultMiddlewareOptions } from '../middleware/default-middleware.js';

/** Limits on one agent run; the run stops with `BudgetExceededError` before going past one. */
export interface AgentBudget {
  maxTokens?: number;
  /** USD, as a number or decimal string. */
  maxCostUsd?: number | string;
  maxTurns?: number;
  maxToolCalls?: number;
  maxRuntimeMs?: number;
}

/** Running totals of a run, visible to middleware. */
export interface RunState {
  readonly runId: string;
  /** The current turn, from 1. */
  turn: number;
  /** Tool calls handed to the middleware chain so far (arguments valid, tool known). */
  toolCalls: number;
  usage: Usage;
  costNanoUsd: number;
  /** When the run started, on the agent's clock (epoch milliseconds by default). */
  readonly startedAt: number;
  /** The transcript so far (live: grows as the run goes). */
  readonly messages: readonly Message[];
  /** The run's budget: the run's `budget` option merged over the agent's. */
  readonly budget: Readonly<AgentBudget>;
}

interface CallContextBase {
  /** Deterministic index of this call within the run: model call of turn 1 is 0, its tool calls follow in order, then turn 2's model call, and so on. */
  readonly callIndex: number;
  readonly turn: number;
  readonly context: RequestContext;
  readonly signal: AbortSignal;
  readonly state: RunState;
  readonly agentName: string;
}

export interface ModelCallContext extends CallContextBase {
  readonly kind: 'model';
  request: ModelRequest;
  /** Present when the run streams: forward deltas here. Middleware that answers without calling `next` (a replay) may emit the recorded text. */
  readonly emit?: (event: ModelStreamEvent) => void;
  /** Per-attempt timeout the engine should apply. */
  timeoutMs?: number;
  /**
   * Idempotency key handed to the engine (which joins an identical call in flight and returns a
   * completed one's result). Default: `${context.jobId}:${callIndex}` when the context has a
   * jobId, otherwise none (a reused request context must not turn new runs into cache hits).
   */
  idempotencyKey?: string;
}

export interface ToolCallContext extends CallContextBase {
  readonly kind: 'tool';
  readonly toolCall: ToolCall;
  readonly tool: Tool;
  /** The validated arguments. */
  readonly args: unknown;
  /** Stable idempotency key handed to `execute`; middleware may replace it (the runtime does). */
  idempotencyKey: string;
  timeoutMs?: number;
}

/** What a tool call produced. `suspend` stops the run cleanly (e.g. waiting for a human). */
export type ToolResult =
  | { type: 'output'; output: unknown; content: string }
  | { type: 'error'; error: unknown; content: string }
  | { type: 'suspend'; reason: string; data?: unknown };

export type Next<C, R> = (ctx: C) => Promise<R>;

/** Onion middleware around each model call and each tool call. */
export interface AgentMiddleware {
  readonly name: string;
  model?(ctx: ModelCallContext, next: Next<ModelCallContext, ModelResponse>): Promise<ModelResponse>;
  tool?(ctx: ToolCallContext, next: Next<ToolCallContext, ToolResult>): Promise<ToolResult>;
}

export interface AgentRunOptions {
  context?: RequestContext;
  signal?: AbortSignal;
  /** Conversation so far, placed after the instructions and before `input`. */
  history?: Message[];
  /** Per-run budget, merged over the agent's. */
  budget?: AgentBudget;
  /** Extra middleware for this run, inside the agent's own (and outside retry and timeout). */
  middleware?: AgentMiddleware[];
}

export interface AgentStep {
  callIndex: number;
  turn: number;
  kind: 'model' | 'tool';
  startedAt: number;
  durationMs: number;
  /** For model steps. */
  response?: ModelResponse;
  /** For tool steps. */
  toolCall?: ToolCall;
  result?: ToolResult;
}

export type AgentRunStatus = 'completed' | 'suspended';

export interface AgentResult {
  status: AgentRunStatus;
  /** Final answer text (empty when suspended). */
  text: string;
  /** Full transcript, including the input and tool results. */
  messages: Message[];
  steps: AgentStep[];
  usage: Usage;
  cost: Cost;
  turns: number;
  /** When suspended: which tool call asked for it and why. */
  suspension?: { toolCall: ToolCall; reason: string; data?: unknown };
}

/** Events of a streaming run. */
export type AgentStreamEvent =
  | { type: 'run-start'; runId: string }
  | { type: 'turn-start'; turn: number }
  | { type: 'text-delta'; turn: number; delta: string }
  | { type: 'tool-call-start'; turn: number; toolCallId: string; toolName: string }
  | { type: 'tool-call-delta'; turn: number; toolCallId: string; argumentsDelta: string }
  | { type: 'tool-call'; turn: number; toolCall: ToolCall }
  | { type: 'tool-result'; turn: number; toolCall: ToolCall; result: ToolResult; durationMs: number }
  | { type: 'turn-finish'; turn: number; response: ModelResponse }
  | { type: 'run-finish'; result: AgentResult };

export interface AgentStream extends AsyncIterable<AgentStreamEvent> {
  readonly result: Promise<AgentResult>;
}

export interface AgentConfig {
  engine: ModelExecutor;
  name?: string;
  instructions?: string;
  tools?: Tool[];
  /** Model turns before giving up (default 10). */
  maxTurns?: number;
  /** Invalid tool arguments sent back to the model at most this many times per tool (default 2). */
  maxToolRepairs?: number;
  /**
   * Your middleware, outermost first. It runs inside the default chain's logging, telemetry and
   * budget, and outside its retry and timeout (which wrap the real call only).
   */
  middleware?: AgentMiddleware[];
  /** `false` turns the default chain (logging, timeout, retry, budget, telemetry) off. */
  useDefaultMiddleware?: boolean;
  budget?: AgentBudget;
  /** Model id and settings applied to each model call. */
  model?: string;
  modelSettings?: Pick<ModelRequest, 'temperature' | 'maxTokens' | 'topP' | 'stop' | 'providerOptions'>;
  /** Call tools of one turn concurrently (default true). */
  parallelToolCalls?: boolean;
  /** Settings of the default chain (logger, telemetry hook, timeouts, tool retries). */
  defaultMiddleware?: DefaultMiddlewareOptions;
  /** Test seams: the clock (milliseconds) and the run id generator. */
  _internal?: { now?: () => number; generateId?: () => string };
}

export type { BudgetKind };
