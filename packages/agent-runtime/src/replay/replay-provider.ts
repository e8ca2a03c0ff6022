import { InvalidArgumentError, type LanguageModel, type ModelCallOptions, type ModelRequest, type ModelResponse, type ModelStreamEvent } from '@baton/llm-client';
import { ReplayDivergenceError } from '../errors/kernel-errors.js';
import type { JournalEntry } from '../journal/journal-entry.js';
import { modelInputDigest } from '../kernel/job-context.js';
import { hashInput } from '../kernel/step-journal.js';
import type { Recording } from './recording.js';

export interface ReplayProviderOptions {
  /** Journal entries to answer from (their model steps, in seq order)… */
  entries?: readonly JournalEntry[];
  /** … or a recording and the job whose journal to use. */
  recording?: Recording;
  jobId?: string;
  /** Default: the first recorded model's name. */
  modelId?: string;
}

/**
 * A model that answers from a recorded journal instead of calling a provider: the n-th call
 * gets the n-th recorded model response, after checking that it asks what the recording asked
 * (same model, same number of messages, same last message). A call the recording does not
 * hold, or that asks something else, is a `ReplayDivergenceError` naming the recorded step and
 * both sides. Use it as the engine's provider to re-run an agent, or as a kernel's engine in a
 * replay so that no real provider can be reached.
 */
export class ReplayProvider implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'replay';
  readonly modelId: string;
  /** Requests answered so far. */
  readonly calls: ModelRequest[] = [];
  private readonly jobId: string;
  private readonly entries: readonly JournalEntry[];

  constructor(options: ReplayProviderOptions) {
    let entries = options?.entries;
    if (!entries && options?.recording) {
      const jobId = options.jobId ?? options.recording.metadata.jobId ?? Object.keys(options.recording.journals)[0];
      entries = jobId ? options.recording.journal(jobId) : [];
    }
    if (!Array.isArray(entries)) throw new InvalidArgumentError('entries', 'give journal entries, or a recording (and the job id)');
    this.entries = entries.filter((e) => e.kind === 'model' && e.status === 'completed').sort((a, b) => a.seq - b.seq);
    this.jobId = options.jobId ?? this.entries[0]?.jobId ?? 'replay';
    this.modelId = options.modelId ?? this.entries[0]?.name ?? 'replay';
  }

  /** Recorded model calls not asked for yet. */
  get remaining(): number {
    return this.entries.length - this.calls.length;
  }

  async complete(request: ModelRequest, _options?: ModelCallOptions): Promise<ModelResponse> {
    const index = this.calls.length;
    const entry = this.entries[index];
    const asked = describe(request);
    if (!entry) throw new ReplayDivergenceError(this.jobId, `model call #${index + 1}`, `${this.entries.length} model call(s) and no more`, asked);
    if (entry.inputHash !== undefined) {
      const candidates = new Set([request.model, entry.name, this.modelId, 'default'].filter((m): m is string => typeof m === 'string'));
      const same = [...candidates].some((model) => hashInput(modelInputDigest(request.messages, model)) === entry.inputHash);
      if (!same) throw new ReplayDivergenceError(this.jobId, entry.stepId ?? String(entry.seq), `a call to model '${entry.name}' with other messages`, asked);
    }
    this.calls.push(request);
    return structuredClone(entry.output) as unknown as ModelResponse;
  }

  async *stream(request: ModelRequest, options?: ModelCallOptions): AsyncIterable<ModelStreamEvent> {
    const response = await this.complete(request, options);
    yield { type: 'stream-start', provider: response.provider, model: response.model, ...(response.responseId ? { responseId: response.responseId } : {}) };
    if (response.text) yield { type: 'text-delta', delta: response.text };
    for (const [index, toolCall] of response.toolCalls.entries()) {
      yield { type: 'tool-call-start', toolCallId: toolCall.id, toolName: toolCall.name, index };
      yield { type: 'tool-call-delta', toolCallId: toolCall.id, argumentsDelta: toolCall.arguments, index };
      yield { type: 'tool-call', toolCall };
    }
    yield { type: 'finish', response };
  }
}

function describe(request: ModelRequest): string {
  const last = request.messages[request.messages.length - 1];
  const text = last ? `${last.role}: ${last.content.length > 60 ? `${last.content.slice(0, 60)}…` : last.content}` : 'no message';
  return `a call to model '${request.model ?? 'default'}' with ${request.messages.length} message(s), the last "${text}"`;
}
