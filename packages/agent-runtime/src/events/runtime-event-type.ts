import { z } from 'zod';

/**
 * Every event the runtime publishes, `noun.action`. Job events mirror status changes; step
 * events frame each journaled step; model/tool/action/policy/budget/checkpoint/interruption
 * events report what happens inside a step.
 */
export const RUNTIME_EVENT_TYPES = [
  'job.created',
  'job.started',
  'job.waiting',
  'job.resumed',
  'job.requeued',
  'job.interrupted',
  'job.completed',
  'job.failed',
  'job.cancelled',
  'job.dead_lettered',
  'step.started',
  'step.completed',
  'step.failed',
  'model.started',
  'model.delta',
  'model.completed',
  'model.failed',
  'tool.started',
  'tool.completed',
  'tool.failed',
  'action.required',
  'action.resolved',
  'action.expired',
  'action.escalated',
  'policy.decision',
  'budget.reserved',
  'budget.warning',
  'budget.exceeded',
  'checkpoint.saved',
  'interruption.requested',
  'interruption.completed',
] as const;

export type RuntimeEventType = (typeof RUNTIME_EVENT_TYPES)[number];
export const RuntimeEventTypeSchema = z.enum(RUNTIME_EVENT_TYPES);

/** Events after which a job publishes nothing more: the bus may evict its history after a TTL. */
export const TERMINAL_JOB_EVENT_TYPES: ReadonlySet<RuntimeEventType> = new Set([
  'job.completed',
  'job.failed',
  'job.cancelled',
  'job.interrupted',
  'job.dead_lettered',
]);
