import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type Agent } from '@baton/llm-client';
import type { ActionSpec } from '../actions/action-spec.js';
import { JobNotFoundError } from '../errors/job-errors.js';
import { ReplayDivergenceError } from '../errors/kernel-errors.js';
import type { JsonObject, JsonValue } from '../jobs/json-value.js';
import type { JournalEntry, JournalStepKind } from '../journal/journal-entry.js';
import { agentWorkflow } from '../kernel/agent-workflow.js';
import type { ActionOutcome, JobContext, StepHandle, StepOptions } from '../kernel/job-context.js';
import type { Workflow } from '../kernel/job-runner.js';
import type { RuntimeKernel } from '../kernel/runtime-kernel.js';
import { launchPreparedJob } from '../orchestration/launch-job.js';
import { copyJournalEntries } from './copy-journal.js';
import type { Recording } from './recording.js';

export interface ReplayJobOptions {
  /** The job to run again. */
  jobId: string;
  scopeId: string;
  /** Where the job's journal and record come from (default: the kernel's stores). */
  recording?: Recording;
  /** The job's code as it is now; default: the kernel-style agent workflow over `agents` (for `agent` jobs). */
  workflow?: Workflow;
  agents?: Record<string, Agent>;
}

/** What a deterministic re-execution found. */
export interface ReplayOutcome {
  /** The replay's own job (its journal is the recording's, nothing appended). */
  jobId: string;
  originalJobId: string;
  output: JsonValue | undefined;
  originalOutput: JsonValue | undefined;
  /** The re-execution returned what the original returned. */
  sameOutput: boolean;
  /** Recorded steps the code asked for. */
  replayedSteps: number;
  /** Recorded steps the code never asked for (the code now stops earlier or skips them). */
  unusedSteps: string[];
}

interface ReplayRun {
  workflow: Workflow;
  recorded: Map<string, JournalEntry>;
  used: Set<string>;
  divergence: ReplayDivergenceError | undefined;
}

/**
 * Deterministic re-execution: runs a finished job's code again as a new job whose journal is
 * the recorded one, in strict mode. Every model call, tool call, wait and step is answered from
 * the journal; a step the recording does not hold is refused before it runs (no provider is
 * called, no tool runs), and a step that differs from the recorded one at its position (kind,
 * name or input) fails — both as the runtime's `ReplayDivergenceError` naming the step and
 * both sides, which `replay()` rethrows.
 *
 * Registers one workflow on the kernel (`baton.replay.<id>`) for the replayer's jobs.
 */
export class JobReplayer {
  readonly workflowName = `baton.replay.${randomUUID()}`;
  private readonly runs = new Map<string, ReplayRun>();

  constructor(private readonly kernel: RuntimeKernel) {
    if (typeof kernel?.registerWorkflow !== 'function') throw new InvalidArgumentError('kernel', 'must be a RuntimeKernel');
    kernel.registerWorkflow(this.workflowName, (ctx, input) => this.execute(ctx, input));
  }

  async replay(options: ReplayJobOptions): Promise<ReplayOutcome> {
    const { jobId, scopeId, recording } = options;
    const recordedJob = recording?.job(jobId);
    const original = recordedJob ?? (await this.kernel.getJob(jobId, scopeId).then((j) => (j ? { principalId: j.principalId, input: j.input, metadata: j.metadata, result: j.result } : undefined)));
    if (!original) throw new JobNotFoundError(jobId, scopeId);
    const entries = recording ? recording.journal(jobId) : await this.kernel.stores.journal.list({ jobId, scopeId });
    const workflow = options.workflow ?? (options.agents ? agentWorkflow((name) => options.agents?.[name]) : undefined);
    if (!workflow) throw new InvalidArgumentError('workflow', "give the job's workflow (or `agents` for an agent job)");

    const run: ReplayRun = { workflow, recorded: new Map(entries.map((e) => [e.stepId ?? String(e.seq), e])), used: new Set(), divergence: undefined };
    const agent = (original.metadata as JsonObject)['agent'];
    const { job } = await launchPreparedJob(
      this.kernel,
      {
        scopeId,
        principalId: original.principalId,
        input: original.input,
        workflow: this.workflowName,
        agent: typeof agent === 'string' ? agent : undefined,
        metadata: { replayOf: jobId },
      },
      {
        reason: `replay of ${jobId}`,
        prepare: async (j) => {
          this.runs.set(j.id, run);
          await copyJournalEntries(this.kernel.stores.journal, { jobId: j.id, scopeId }, entries);
        },
      },
    );
    try {
      const handle = (await this.kernel.handle(job.id, scopeId))!;
      const settled = await handle.settled();
      if (settled.status !== 'completed') {
        if (run.divergence) throw run.divergence;
        await handle.result();
        throw new InvalidArgumentError('jobId', `the replay of ${jobId} stopped as ${settled.status}: the recording does not hold the answer it waits for`);
      }
      const output = settled.result;
      const nested = [...run.used];
      const unusedSteps = [...run.recorded.keys()].filter((id) => !run.used.has(id) && !nested.some((u) => id.startsWith(`${u}.`)));
      return {
        jobId: job.id,
        originalJobId: jobId,
        output,
        originalOutput: original.result,
        sameOutput: JSON.stringify(output ?? null) === JSON.stringify(original.result ?? null),
        replayedSteps: run.used.size,
        unusedSteps,
      };
    } finally {
      this.runs.delete(job.id);
    }
  }

  private async execute(ctx: JobContext, input: JsonValue): Promise<unknown> {
    const run = this.runs.get(ctx.jobId);
    if (!run) throw new InvalidArgumentError('jobId', `job ${ctx.jobId} is a replay started by another replayer or process; start the replay again`);
    return run.workflow(strictReplayContext(ctx, run), input);
  }
}

/** Runs a recorded job again (see `JobReplayer`); registers a workflow on the kernel for it. */
export function replayJob(kernel: RuntimeKernel, options: ReplayJobOptions): Promise<ReplayOutcome> {
  return new JobReplayer(kernel).replay(options);
}

/**
 * A view of the replay job's context that refuses any step the recording does not hold (before
 * it runs) and records the first divergence, however deep it is thrown.
 */
function strictReplayContext(ctx: JobContext, run: ReplayRun): JobContext {
  const view = Object.create(ctx) as JobContext;
  const check = (stepId: string, kind: JournalStepKind, name: string) => {
    if (!run.recorded.has(stepId)) {
      const error = new ReplayDivergenceError(ctx.jobId, stepId, 'no step at this position (the recording ends or branches before it)', `${kind} '${name}'`);
      run.divergence ??= error;
      throw error;
    }
    run.used.add(stepId);
  };
  const note = (error: unknown) => {
    if (error instanceof ReplayDivergenceError) run.divergence ??= error;
    return error;
  };
  Object.defineProperty(view, 'runStep', {
    value: async function runStep<T>(stepId: string, kind: JournalStepKind, name: string, fn: (step: StepHandle) => Promise<T> | T, options?: StepOptions): Promise<T> {
      check(stepId, kind, name);
      try {
        return (await ctx.runStep.call(view, stepId, kind, name, fn, options)) as T;
      } catch (error) {
        throw note(error);
      }
    },
  });
  Object.defineProperty(view, 'waitForAction', {
    value: async function waitForAction(spec: ActionSpec, options: { stepId?: string } = {}): Promise<ActionOutcome> {
      const stepId = options.stepId ?? (view as unknown as { allocate(): string }).allocate();
      check(stepId, 'action', spec.type ?? 'approval');
      try {
        return await ctx.waitForAction.call(view, spec, { stepId });
      } catch (error) {
        throw note(error);
      }
    },
  });
  return view;
}
