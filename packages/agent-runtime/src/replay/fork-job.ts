import { InvalidArgumentError } from '@baton/llm-client';
import { JobNotFoundError } from '../errors/job-errors.js';
import { toFrozenJson, type JsonObject, type JsonValue } from '../jobs/json-value.js';
import type { JournalEntry, JournalStepKind } from '../journal/journal-entry.js';
import type { ExecutionHandle } from '../kernel/execution-handle.js';
import type { RuntimeKernel } from '../kernel/runtime-kernel.js';
import { launchPreparedJob } from '../orchestration/launch-job.js';
import { copyJournalEntries } from './copy-journal.js';

/** One kept step of a fork, as `edit` sees it: change `output` to change the state the fork starts from. */
export interface ForkStep {
  readonly seq: number;
  readonly stepId: string;
  readonly kind: JournalStepKind;
  readonly name: string;
  output: JsonValue | undefined;
}

/** The state a fork starts from: the job's input and its first `atStep` steps. */
export interface ForkState {
  input: JsonValue;
  steps: ForkStep[];
}

export interface ForkJobOptions {
  jobId: string;
  scopeId: string;
  /** The fork keeps the original's first `atStep` steps (seq 0 … atStep - 1) and runs from step `atStep` on. */
  atStep: number;
  /** Edits the state at that step (outputs of kept steps, the input) before the fork runs. */
  edit?: (state: ForkState) => ForkState | void;
  /** Who the fork runs for (default: the original's principal). */
  principalId?: string;
  metadata?: JsonObject;
}

/**
 * Time travel: starts a new job whose journal is the original's first `atStep` entries
 * (optionally edited), so it replays them and continues from there with the same workflow —
 * live calls from that step on. The original job and its journal are not touched. The fork's
 * record says where it came from (`metadata.forkOf`); its workflow must be registered on `kernel`.
 */
export async function forkJob(kernel: RuntimeKernel, options: ForkJobOptions): Promise<ExecutionHandle> {
  const { jobId, scopeId, atStep } = options;
  const original = await kernel.getJob(jobId, scopeId);
  if (!original) throw new JobNotFoundError(jobId, scopeId);
  const entries = await kernel.stores.journal.list({ jobId, scopeId });
  if (!Number.isInteger(atStep) || atStep < 0 || atStep > entries.length) {
    throw new InvalidArgumentError('atStep', `must be an integer from 0 to ${entries.length} (the steps job ${jobId} has)`);
  }
  const kept = entries.filter((e) => e.seq < atStep);
  if (kept.length !== atStep) throw new InvalidArgumentError('atStep', `job ${jobId}'s journal was pruned before step ${atStep}`);

  let state: ForkState = { input: original.input, steps: kept.map((e) => ({ seq: e.seq, stepId: e.stepId ?? String(e.seq), kind: e.kind, name: e.name, output: e.output })) };
  if (options.edit) {
    const draft: ForkState = { input: structuredClone(state.input), steps: state.steps.map((s) => ({ ...s, output: s.output === undefined ? undefined : structuredClone(s.output) })) };
    state = options.edit(draft) ?? draft;
    if (!Array.isArray(state?.steps) || state.steps.length !== kept.length) throw new InvalidArgumentError('edit', 'must keep the steps (edit their outputs, not the list)');
  }
  const input = toFrozenJson(state.input, 'edit.input');
  const edited: JournalEntry[] = kept.map((e, i) => ({ ...e, output: state.steps[i]!.output }));

  const { workflow, agent, timeoutSeconds, previousContext: _previous, ...rest } = original.metadata as JsonObject & { workflow?: JsonValue; agent?: JsonValue; timeoutSeconds?: JsonValue };
  const { job } = await launchPreparedJob(
    kernel,
    {
      scopeId,
      principalId: options.principalId ?? original.principalId,
      input,
      budgets: original.budgets,
      priority: original.priority,
      ...(original.policyRef ? { policyRef: original.policyRef } : {}),
      workflow: typeof workflow === 'string' ? workflow : 'agent',
      agent: typeof agent === 'string' ? agent : undefined,
      timeoutSeconds: typeof timeoutSeconds === 'number' ? timeoutSeconds : undefined,
      metadata: { ...rest, ...(options.metadata ?? {}), forkOf: { jobId, atStep, edited: options.edit !== undefined } },
    },
    { reason: `fork of ${jobId} at step ${atStep}`, prepare: (j) => copyJournalEntries(kernel.stores.journal, { jobId: j.id, scopeId }, edited) },
  );
  return (await kernel.handle(job.id, scopeId))!;
}
