import { z } from 'zod';

export const JOB_PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
/** Queues claim by priority first, then by age. */
export type JobPriority = (typeof JOB_PRIORITIES)[number];
export const JobPrioritySchema = z.enum(JOB_PRIORITIES);

const RANK: Readonly<Record<JobPriority, number>> = { critical: 0, high: 1, normal: 2, low: 3 };

/** 0 for `critical` … 3 for `low`: smaller is claimed first. */
export function jobPriorityRank(priority: JobPriority): number {
  return RANK[priority];
}
