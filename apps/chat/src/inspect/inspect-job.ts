import type { JobRecord, Ledger, RuntimeEvent, RuntimeKernel } from '@baton/agent-runtime';
import type { InspectedJob, InspectedStep, JobInspection, Spend } from '../shared/inspection.js';
import { usd, usdText } from './format.js';
import { buildTimeline } from './job-timeline.js';

/**
 * Everything the inspector shows about one job of `scopeId`, or undefined when the scope has no
 * such job: the job, its timeline (events + journal + ledger + actions), its steps and its spend.
 */
export async function inspectJob(kernel: RuntimeKernel, ledger: Ledger, scopeId: string, jobId: string): Promise<JobInspection | undefined> {
  const job = await kernel.getJob(jobId, scopeId);
  if (!job) return undefined;
  const ref = { scopeId, jobId };
  const [events, journal, ledgerEvents, actions, usage] = await Promise.all([
    kernel.stores.events.replay({ ...ref, fromSeq: 1 }),
    kernel.stores.journal.list(ref),
    ledger.listByJob(ref),
    kernel.actions.listByJob(ref),
    ledger.usage({ scopeId }),
  ]);
  const inspected = inspectedJob(job, events);
  const timeline = buildTimeline({ createdAt: job.createdAt, events, journal, ledger: ledgerEvents, actions, partialText: inspected.interrupted?.partialText });
  const steps: InspectedStep[] = journal.map((s) => ({
    seq: s.seq,
    stepId: s.stepId,
    kind: s.kind,
    name: s.name,
    status: s.status,
    offsetMs: Math.max(0, s.startedAt - job.createdAt),
    durationMs: s.durationMs,
  }));
  const billed = ledgerEvents.filter((e) => e.kind === 'settlement' || e.kind === 'model_usage');
  const spend: Spend = {
    job: {
      modelCalls: billed.length,
      inputTokens: sum(billed.map((e) => e.inputTokens)),
      outputTokens: sum(billed.map((e) => e.outputTokens)),
      totalTokens: sum(billed.map((e) => e.totalTokens)),
      costUsd: usd(sum(billed.map((e) => e.costNanoUsd))),
    },
    scope: {
      day: usage.day,
      usedTokens: usage.usedTokens,
      usedCostUsd: usdText(usage.usedCostUsd),
      dailyTokens: usage.budget?.dailyTokens,
      dailyCostUsd: usage.budget?.dailyCostUsd !== undefined ? usdText(usage.budget.dailyCostUsd) : undefined,
    },
  };
  return { job: inspected, timeline, steps, spend };
}

function inspectedJob(job: JobRecord, events: readonly RuntimeEvent[]): InspectedJob {
  const result = (job.result ?? {}) as { text?: unknown; interrupted?: { partialText?: unknown } };
  const previous = job.metadata['previousContext'] as { jobId?: unknown; partialText?: unknown } | undefined;
  const interruption = events.find((e) => e.type === 'job.interrupted');
  return {
    id: job.id,
    status: job.status,
    sessionId: job.sessionId,
    input: messageOf(job.input),
    createdAt: job.createdAt,
    durationMs: job.updatedAt - job.createdAt,
    answer: job.status === 'completed' && typeof result.text === 'string' ? result.text : undefined,
    previousContext: previous && typeof previous.jobId === 'string' ? { jobId: previous.jobId, partialText: String(previous.partialText ?? '') } : undefined,
    interrupted:
      job.status === 'interrupted' ? { byJobId: interruption?.type === 'job.interrupted' ? interruption.data.byJobId : undefined, partialText: typeof result.interrupted?.partialText === 'string' ? result.interrupted.partialText : '' } : undefined,
  };
}

function messageOf(input: unknown): string {
  if (typeof input === 'string') return input;
  const message = (input as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : JSON.stringify(input);
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
