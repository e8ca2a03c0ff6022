import type { ActionRecord, JobRecord } from '@baton/agent-runtime';

/** A job as the API returns it: the stored record without its lease bookkeeping. */
export type JobView = Omit<JobRecord, 'leaseOwner' | 'leaseExpiresAt' | 'leaseEpoch'>;

export function jobView(job: JobRecord): JobView {
  const { leaseOwner: _owner, leaseExpiresAt: _expires, leaseEpoch: _epoch, ...view } = job;
  return view;
}

/**
 * An action as the API returns it: never its token hash; with its `resumeToken` when the action
 * is pending and this server handed the token out (to this same scope).
 */
export type ActionView = Omit<ActionRecord, 'tokenHash'> & { resumeToken?: string };

export function actionView(action: ActionRecord, resumeToken: string | undefined): ActionView {
  const { tokenHash: _hash, ...view } = action;
  return resumeToken !== undefined && action.status === 'pending' ? { ...view, resumeToken } : view;
}
