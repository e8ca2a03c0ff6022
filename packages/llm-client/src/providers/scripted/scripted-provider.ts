import { InvalidArgumentError } from '../../errors/index.js';
import type { LanguageModel, ModelCallOptions, ModelRequest, ModelResponse, ModelStreamEvent } from '../../types/model.js';
import type { RequestContext } from '../../types/request-context.js';
import { sleep, throwIfAborted } from '../shared/abort.js';
import { ScriptExhaustedError } from './script-exhausted-error.js';
import { checkDelay, resolveStep, validateStep, type ResolvedAnswer, type ScriptFunction, type ScriptStep } from './script-step.js';
import { buildResponse, countDelayedEvents, type AnswerMeta } from './scripted-events.js';
import { ScriptedStream, raceAbort } from './scripted-stream.js';

export interface ScriptedProviderOptions {
  /**
   * The answers, in order, or a function computing each one. Default: a function that answers
   * `You said: <last user message>`.
   */
  script?: ScriptStep[] | ScriptFunction;
  /** Default model id (default 'scripted-1'); a request's `model` wins. */
  model?: string;
  /** Provider name reported in responses and used for pricing (default 'scripted'). */
  provider?: string;
  /** Delay before each streamed token and argument fragment (default 0: no timers at all). */
  tokenDelayMs?: number;
  /** Start the script over when it runs out (default false: throw `ScriptExhaustedError`). */
  loop?: boolean;
  /** Keep answering when the call's signal fires (default false), as a model that ignores abort. */
  ignoreAbort?: boolean;
  /** How many recent requests `calls` keeps (default 1,000; 0 keeps none). */
  maxRecordedCalls?: number;
}

/** One call the provider received. */
export interface ScriptedCall {
  /** 0-based, in arrival order; the index passed to a script function. */
  index: number;
  method: 'complete' | 'stream';
  request: ModelRequest;
  headers: Readonly<Record<string, string>> | undefined;
  context: RequestContext | undefined;
}

/**
 * A deterministic offline model that answers from a script or a function, streams token by
 * token and emits tool calls. A real provider: it goes through the same engine, middleware and
 * accounting as the others ('scripted:*' in the price table).
 */
export class ScriptedProvider implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  /** Every call received, in order. */
  /** The most recent requests received (at most `maxRecordedCalls`, oldest first). */
  readonly calls: ScriptedCall[] = [];
  /** Requests received in all. */
  callCount = 0;
  private readonly maxRecordedCalls: number;

  private readonly script: ScriptStep[] | ScriptFunction;
  private readonly tokenDelayMs: number;
  private readonly loop: boolean;
  private readonly ignoreAbort: boolean;

  constructor(options: ScriptedProviderOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
    const { script = echoScript, model = 'scripted-1', provider = 'scripted', tokenDelayMs = 0, loop = false, ignoreAbort = false } = options;
    if (typeof script !== 'function') {
      if (!Array.isArray(script)) throw new InvalidArgumentError('script', 'must be an array of steps or a function');
      script.forEach((step, i) => validateStep(step, `script[${i}]`));
      if (loop && script.length === 0) throw new InvalidArgumentError('script', 'must not be empty when loop is true');
    }
    if (typeof model !== 'string' || model === '') throw new InvalidArgumentError('model', 'must be a non-empty string');
    if (typeof provider !== 'string' || provider === '') throw new InvalidArgumentError('provider', 'must be a non-empty string');
    checkDelay(tokenDelayMs, 'tokenDelayMs');
    const maxRecordedCalls = options.maxRecordedCalls ?? 1000;
    if (!Number.isInteger(maxRecordedCalls) || maxRecordedCalls < 0) throw new InvalidArgumentError('maxRecordedCalls', 'must be an integer ≥ 0');
    this.maxRecordedCalls = maxRecordedCalls;
    this.script = typeof script === 'function' ? script : [...script];
    this.modelId = model;
    this.provider = provider;
    this.tokenDelayMs = tokenDelayMs;
    this.loop = loop === true;
    this.ignoreAbort = ignoreAbort === true;
  }

  async complete(request: ModelRequest, options: ModelCallOptions = {}): Promise<ModelResponse> {
    const { meta, resolve, signal } = this.prepare('complete', request, options);
    throwIfAborted(signal);
    let answer = resolve();
    if (answer instanceof Promise) answer = await raceAbort(answer, signal);
    const waitMs = answer.delayMs + (answer.tokenDelayMs > 0 ? answer.tokenDelayMs * countDelayedEvents(answer) : 0);
    if (waitMs > 0) await sleep(waitMs, signal);
    throwIfAborted(signal);
    if (answer.hasError) throw answer.error;
    return buildResponse(answer, meta);
  }

  stream(request: ModelRequest, options: ModelCallOptions = {}): AsyncIterable<ModelStreamEvent> {
    const { meta, resolve, signal } = this.prepare('stream', request, options);
    return new ScriptedStream(resolve, meta, signal);
  }

  private prepare(method: ScriptedCall['method'], request: ModelRequest, options: ModelCallOptions) {
    const index = this.callCount++;
    if (this.maxRecordedCalls > 0) {
      if (this.calls.length >= this.maxRecordedCalls) this.calls.shift();
      this.calls.push({ index, method, request, headers: options.headers, context: options.context });
    }
    const meta: AnswerMeta = {
      provider: this.provider,
      model: request.model ?? this.modelId,
      responseId: `scripted-${index}`,
      messages: request.messages,
    };
    const resolve = (): ResolvedAnswer | Promise<ResolvedAnswer> => this.answerFor(request, index);
    return { meta, resolve, signal: this.ignoreAbort ? undefined : options.signal };
  }

  private answerFor(request: ModelRequest, index: number): ResolvedAnswer | Promise<ResolvedAnswer> {
    const script = this.script;
    if (typeof script === 'function') {
      const step = script(request, index);
      if (step instanceof Promise) return step.then((s) => this.checked(s, index));
      return this.checked(step, index);
    }
    if (index >= script.length && !this.loop) throw new ScriptExhaustedError(index, script.length);
    return resolveStep(script[index % script.length]!, index, this.tokenDelayMs);
  }

  private checked(step: ScriptStep, index: number): ResolvedAnswer {
    validateStep(step, `script(call #${index})`);
    return resolveStep(step, index, this.tokenDelayMs);
  }
}

/** Creates a `ScriptedProvider`; see its options. */
export function createScriptedProvider(options: ScriptedProviderOptions = {}): ScriptedProvider {
  return new ScriptedProvider(options);
}

function echoScript(request: ModelRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role === 'user') return `You said: ${m.content}`;
  }
  return 'Hello from the scripted model.';
}
