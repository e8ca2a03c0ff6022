import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../errors/job-errors.js';
import { JOB_STATUSES, JOB_TRANSITIONS, assertTransition, canTransition, isTerminalJobStatus } from './job-status.js';

describe('job status transitions', () => {
  it('lets terminal statuses go nowhere but a dead letter back to the queue', () => {
    for (const status of JOB_STATUSES) {
      if (!isTerminalJobStatus(status)) continue;
      expect(JOB_TRANSITIONS[status]).toEqual(status === 'dead_lettered' ? ['queued'] : []);
    }
    expect(JOB_STATUSES.filter(isTerminalJobStatus)).toEqual(['interrupted', 'completed', 'failed', 'cancelled', 'dead_lettered']);
  });

  it('allows the life cycle of a job that waits for an action', () => {
    const path = ['queued', 'running', 'waiting_for_action', 'queued', 'running', 'completed'] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1] as never, path[i] as never)).toBe(true);
  });

  it('names the job and both statuses when a transition is illegal', () => {
    expect(() => assertTransition({ jobId: 'j1', from: 'completed', to: 'running' })).toThrow(IllegalTransitionError);
    try {
      assertTransition({ jobId: 'j1', from: 'queued', to: 'waiting_for_action' });
    } catch (error) {
      expect(error).toMatchObject({ code: 'illegal_transition', jobId: 'j1', from: 'queued', to: 'waiting_for_action', retryable: false });
      expect((error as Error).message).toBe("Job 'j1' cannot go from 'queued' to 'waiting_for_action'");
      return;
    }
    throw new Error('expected an IllegalTransitionError');
  });

  it('never allows a status to transition to itself', () => {
    for (const status of JOB_STATUSES) expect(canTransition(status, status)).toBe(false);
  });
});
