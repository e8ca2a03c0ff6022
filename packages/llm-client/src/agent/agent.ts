import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { ModelExecutor } from '../engine/types.js';
import type { Message } from '../types/messages.js';
import type { ModelRequest } from '../types/model.js';
import { RequestContext } from '../types/request-context.js';
import { defaultNow } from '../middleware/clock.js';
import { composeModelMiddleware, composeToolMiddleware, type ModelHandler, type ToolHandler } from '../middleware/compose.js';
import { defaultMiddleware } from '../middleware/default-middleware.js';
import { ToolSet } from '../tools/tool-set.js';
import { AgentRun } from './agent-run.js';
import { AgentEventStream } from './agent-stream.js';
import { mergeBudgets, validateBudget } from './budget.js';
import { engineModelHandler } from './model-handler.js';
import { buildMessages, validateMiddleware } from './run-input.js';
import { executeToolHandler } from './tool-handler.js';
import type { AgentBudget, AgentConfig, AgentMiddleware, AgentResult, AgentRunOptions, AgentStream, AgentStreamEvent } from './types.js';

const MODEL_SETTINGS = ['temperature', 'maxTokens', 'topP', 'stop', 'providerOptions'] as const;

/**
 * An LLM agent: calls the model with its tools, runs the tools the model asks for (concurrently
 * when it asks for several), and loops until the model answers without tools. Each model call
 * and each tool call goes through the middleware chain (see `middleware`: your middleware and
 * the run's sit between the default chain's budget and its retry). An agent holds no per-run state: one instance serves any number of concurrent runs.
 *
 * ```ts
 * const agent = new Agent({ engine, instructions: 'Be brief.', tools: [weather] });
 * const { text } = await agent.run('Weather in Paris?');
 * ```
 */
export class Agent {
  readonly name: string;
  readonly instructions: string | undefined;
  readonly tools: ToolSet;
  readonly maxTurns: number;
  readonly maxToolRepairs: number;
  readonly parallelToolCalls: boolean;
  readonly budget: Readonly<AgentBudget>;
  /**
   * The whole chain, outermost first: logging, telemetry, budget, your `middleware`, then retry
   * and timeout (the default parts unless `useDefaultMiddleware: false`). A run's own middleware
   * goes after yours, before retry and timeout.
   */
  readonly middleware: readonly AgentMiddleware[];
  private readonly outerMiddleware: readonly AgentMiddleware[];
  private readonly innerMiddleware: readonly AgentMiddleware[];
  /** The engine this agent calls. */
  readonly engine: ModelExecutor;
  private readonly requestBase: Omit<ModelRequest, 'messages' | 'tools'>;
  private readonly modelHandler: ModelHandler;
  private readonly toolHandler: ToolHandler;
  private readonly innerModel: ModelHandler;
  private readonly now: () => number;
  private readonly generateId: () => string;

  constructor(config: AgentConfig) {
    if (typeof config !== 'object' || config === null) throw new InvalidArgumentError('config', 'must be an object');
    const { engine } = config;
    if (typeof engine !== 'object' || engine === null || typeof engine.complete !== 'function' || typeof engine.stream !== 'function') {
      throw new InvalidArgumentError('engine', 'must be a ModelExecutor (an ExecutionEngine) with complete() and stream()');
    }
    this.engine = engine;
    this.name = optionalString(config.name, 'name') ?? 'agent';
    this.instructions = optionalString(config.instructions, 'instructions');
    this.tools = new ToolSet(config.tools ?? [], 'tools');
    this.maxTurns = integer(config.maxTurns, 10, 1, 'maxTurns');
    this.maxToolRepairs = integer(config.maxToolRepairs, 2, 0, 'maxToolRepairs');
    if (config.parallelToolCalls !== undefined && typeof config.parallelToolCalls !== 'boolean') throw new InvalidArgumentError('parallelToolCalls', 'must be a boolean');
    this.parallelToolCalls = config.parallelToolCalls ?? true;
    this.budget = validateBudget(config.budget, 'budget');
    this.requestBase = requestBase(config);
    this.now = config._internal?.now ?? defaultNow;
    this.generateId = config._internal?.generateId ?? randomUUID;
    if (typeof this.now !== 'function' || typeof this.generateId !== 'function') throw new InvalidArgumentError('_internal', 'now and generateId must be functions');

    const own = validateMiddleware(config.middleware, 'middleware');
    if (config.useDefaultMiddleware !== undefined && typeof config.useDefaultMiddleware !== 'boolean') throw new InvalidArgumentError('useDefaultMiddleware', 'must be a boolean');
    const defaults = config.useDefaultMiddleware === false ? { outer: [], inner: [] } : defaultMiddleware({ now: this.now, ...config.defaultMiddleware });
    this.outerMiddleware = [...defaults.outer, ...own];
    this.innerMiddleware = defaults.inner;
    this.middleware = Object.freeze([...this.outerMiddleware, ...this.innerMiddleware]);
    this.innerModel = engineModelHandler(engine);
    this.modelHandler = composeModelMiddleware(this.middleware, this.innerModel);
    this.toolHandler = composeToolMiddleware(this.middleware, executeToolHandler);
  }

  /** Runs to a final answer (`status: 'completed'`) or to a suspension (`status: 'suspended'`). */
  run(input: string | Message[], options: AgentRunOptions = {}): Promise<AgentResult> {
    try {
      return this.createRun(input, options, undefined).execute();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs like `run`, with the model's text and tool-call deltas, tool results and turn
   * boundaries as events. `result` settles like `run`'s promise; iteration ends with the run's
   * error when it fails. Invalid options throw at once.
   */
  stream(input: string | Message[], options: AgentRunOptions = {}): AgentStream {
    let push: ((event: AgentStreamEvent) => void) | undefined;
    const run = this.createRun(input, options, (event) => push!(event));
    return new AgentEventStream((p) => {
      push = p;
      return run.execute();
    });
  }

  private createRun(input: string | Message[], options: AgentRunOptions, sink: ((event: AgentStreamEvent) => void) | undefined): AgentRun {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
    const context = options.context ?? RequestContext.create();
    if (!(context instanceof RequestContext)) throw new InvalidArgumentError('context', 'must be a RequestContext');
    const signal = options.signal ?? new AbortController().signal;
    if (!(signal instanceof AbortSignal)) throw new InvalidArgumentError('signal', 'must be an AbortSignal');
    const runMiddleware = validateMiddleware(options.middleware, 'options.middleware');
    const extraBudget = validateBudget(options.budget, 'options.budget');
    const budget = options.budget === undefined ? this.budget : mergeBudgets(this.budget, extraBudget);
    const chain = runMiddleware.length === 0 ? undefined : [...this.outerMiddleware, ...runMiddleware, ...this.innerMiddleware];
    return new AgentRun({
      agentName: this.name,
      tools: this.tools,
      maxTurns: this.maxTurns,
      maxToolRepairs: this.maxToolRepairs,
      parallelToolCalls: this.parallelToolCalls,
      modelHandler: chain ? composeModelMiddleware(chain, this.innerModel) : this.modelHandler,
      toolHandler: chain ? composeToolMiddleware(chain, executeToolHandler) : this.toolHandler,
      requestBase: this.requestBase,
      messages: buildMessages(this.instructions, options.history, input),
      context,
      signal,
      budget,
      runId: this.generateId(),
      now: this.now,
      sink,
    });
  }
}

function requestBase(config: AgentConfig): Omit<ModelRequest, 'messages' | 'tools'> {
  const base: Omit<ModelRequest, 'messages' | 'tools'> = {};
  if (config.model !== undefined) {
    if (typeof config.model !== 'string' || config.model === '') throw new InvalidArgumentError('model', 'must be a non-empty string');
    base.model = config.model;
  }
  const settings = config.modelSettings;
  if (settings === undefined) return base;
  if (typeof settings !== 'object' || settings === null) throw new InvalidArgumentError('modelSettings', 'must be an object');
  for (const key of Object.keys(settings)) {
    if (!(MODEL_SETTINGS as readonly string[]).includes(key)) throw new InvalidArgumentError(`modelSettings.${key}`, `unknown setting; use one of ${MODEL_SETTINGS.join(', ')}`);
  }
  for (const key of MODEL_SETTINGS) {
    if (settings[key] !== undefined) (base as Record<string, unknown>)[key] = settings[key];
  }
  return base;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(name, 'must be a string');
  return value;
}

function integer(value: unknown, fallback: number, min: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new InvalidArgumentError(name, `must be an integer >= ${min}, got ${String(value)}`);
  return value;
}
