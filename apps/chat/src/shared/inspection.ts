/**
 * What `GET /api/inspect/jobs/:id` returns: a job's timeline, steps and spend, already put in
 * words and figures for the page (so the page only lays them out).
 */
export interface JobInspection {
  readonly job: InspectedJob;
  readonly timeline: readonly TimelineItem[];
  readonly steps: readonly InspectedStep[];
  readonly spend: Spend;
}

export interface InspectedJob {
  readonly id: string;
  readonly status: string;
  readonly sessionId?: string | undefined;
  /** The user's message. */
  readonly input: string;
  readonly createdAt: number;
  /** From creation to the job's last change. */
  readonly durationMs: number;
  /** The final answer, once the job has completed. */
  readonly answer?: string | undefined;
  /** Set when this job was started by interrupting another one. */
  readonly previousContext?: { readonly jobId: string; readonly partialText: string } | undefined;
  /** Set when this job was interrupted: what it had said, and by which job. */
  readonly interrupted?: { readonly byJobId?: string | undefined; readonly partialText: string } | undefined;
}

export type TimelineKind = 'job' | 'model' | 'tool' | 'action' | 'policy' | 'interruption';

export type TimelineStatus = 'ok' | 'failed' | 'interrupted' | 'waiting' | 'rejected' | 'info';

/** One thing that happened to the job. */
export interface TimelineItem {
  readonly kind: TimelineKind;
  /** Epoch milliseconds, and the same from the job's creation. */
  readonly at: number;
  readonly offsetMs: number;
  readonly title: string;
  readonly status: TimelineStatus;
  readonly durationMs?: number | undefined;
  /** Label and value pairs, in reading order (tokens, cost, arguments, comment…). */
  readonly facts: ReadonlyArray<readonly [label: string, value: string]>;
}

/** One journaled step. */
export interface InspectedStep {
  readonly seq: number;
  readonly stepId?: string | undefined;
  readonly kind: string;
  readonly name: string;
  readonly status: 'completed' | 'failed';
  readonly offsetMs: number;
  readonly durationMs: number;
}

export interface Spend {
  /** The job's settled model usage, from the ledger. */
  readonly job: { readonly modelCalls: number; readonly inputTokens: number; readonly outputTokens: number; readonly totalTokens: number; readonly costUsd: string };
  /** The scope's day, from the ledger. */
  readonly scope: {
    readonly day: string;
    readonly usedTokens: number;
    readonly usedCostUsd: string;
    readonly dailyTokens?: number | undefined;
    readonly dailyCostUsd?: string | undefined;
  };
}
