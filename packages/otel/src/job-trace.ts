import type { Attributes, Span } from '@opentelemetry/api';
import { ATTR } from './gen-ai-attributes.js';

/** Why the adapter ended a span that its closing event did not end. */
export type EndedBy = 'ttl' | 'capacity' | 'close' | 'superseded' | 'run_ended' | 'job_ended';

/** A model call, tool call, step or action in progress. `span` is undefined when the job is not sampled. */
export interface OpenCall {
  readonly span: Span | undefined;
  /** `at` of the event that opened it (epoch ms). */
  readonly startedAt: number;
  /** A model call's requested model. */
  readonly requestModel?: string | undefined;
  /** An action's type. */
  readonly actionType?: string | undefined;
  /** Text streamed so far (only while `captureOutput` is on). */
  text?: string;
}

/** A span the adapter will start later, with the time and attributes it will have. */
export interface PendingSpan {
  readonly at: number;
  readonly attributes: Attributes;
}

/**
 * What the adapter holds for one job: its `agent.job` span, the current `agent.run` span, and
 * the calls, steps and actions in progress (tracked for timings even when the job is not sampled).
 *
 * The job and run spans start late: the runtime's job status events may not carry the job's
 * trace id while the events inside a run do, so they are held as pending (with their times)
 * until a span inside them starts, an event brings the trace id, or they end.
 */
export class JobTrace {
  job: Span | undefined;
  run: Span | undefined;
  pendingJob: PendingSpan | undefined;
  pendingRun: PendingSpan | undefined;
  /** The first trace id an event of the job carried. */
  traceId: string | undefined;
  /** Decided when the job's span starts (from the trace id known then, or the job id). */
  sampled: boolean | undefined;
  /** Keys `model:<stepKey>`, `tool:<stepKey>`, `step:<key>`, `action:<actionId>`, oldest first. */
  readonly calls = new Map<string, OpenCall>();
  /** The adapter's clock at the job's last event (for the TTL). */
  touchedAt: number;
  /** `at` of the job's last event: when the adapter ends spans for it, they end there. */
  lastEventAt: number;

  constructor(
    readonly key: string,
    readonly jobId: string,
    now: number,
    at: number,
  ) {
    this.touchedAt = now;
    this.lastEventAt = at;
  }

  /** Adds a call; past `max` open ones, the oldest is ended first. */
  open(key: string, call: OpenCall, max: number): void {
    const existing = this.calls.get(key);
    if (existing) end(existing.span, 'superseded', call.startedAt);
    this.calls.delete(key);
    while (this.calls.size >= max) {
      const [oldestKey, oldest] = this.calls.entries().next().value as [string, OpenCall];
      this.calls.delete(oldestKey);
      end(oldest.span, 'capacity', call.startedAt);
    }
    this.calls.set(key, call);
  }

  /** Removes and returns a call (its span still open: the caller ends it). */
  take(key: string): OpenCall | undefined {
    const call = this.calls.get(key);
    if (call) this.calls.delete(key);
    return call;
  }

  /** Ends the calls in progress (all, or all but actions, which outlive a run) with `endedBy`. */
  endCalls(endedBy: EndedBy, at: number, options: { keepActions?: boolean } = {}): void {
    for (const [key, call] of this.calls) {
      if (options.keepActions && key.startsWith('action:')) continue;
      this.calls.delete(key);
      end(call.span, endedBy, at);
    }
  }

  /** Ends everything started and still open (calls, run, job); drops what is pending. */
  endAll(endedBy: EndedBy, at: number = this.lastEventAt): void {
    this.pendingJob = undefined;
    this.pendingRun = undefined;
    this.endCalls(endedBy, at);
    end(this.run, endedBy, at);
    this.run = undefined;
    end(this.job, endedBy, at);
    this.job = undefined;
  }
}

function end(span: Span | undefined, endedBy: EndedBy, at: number): void {
  if (!span) return;
  span.setAttribute(ATTR.endedBy, endedBy);
  span.end(new Date(at));
}
