import type { RuntimeEvent } from '@baton/agent-runtime';
import { ROOT_CONTEXT, TraceFlags, isValidTraceId, trace, type Context } from '@opentelemetry/api';
import { spanIdOf, unitInterval } from './hashing.js';

/**
 * Whether a job is traced: the same answer on every host and every run of the job, because it
 * depends on the job's trace id (or its id when it has none) and the rate alone.
 */
export function isJobSampled(event: Pick<RuntimeEvent, 'jobId' | 'traceId'>, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return unitInterval(event.traceId ?? event.jobId) < rate;
}

/**
 * The parent of a job's span. A job that carries a `traceId` (32 hex digits) gets that trace
 * id: its span's parent is a remote span context of that trace whose span id is derived from
 * the job id, so every host that observes the job puts its spans in the same trace under the
 * same parent. Without one, the job's span starts a trace of its own.
 */
export function jobParentContext(event: Pick<RuntimeEvent, 'jobId' | 'traceId'>): Context {
  const traceId = event.traceId?.toLowerCase();
  if (traceId === undefined || !isValidTraceId(traceId)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: spanIdOf(event.jobId), traceFlags: TraceFlags.SAMPLED, isRemote: true });
}
