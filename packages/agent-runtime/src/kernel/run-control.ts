import type { JsonObject, JsonValue } from '../jobs/json-value.js';

/**
 * Thrown inside a job's code to unwind it when the job pauses (it waits for an action). The
 * kernel catches it by identity and persists the job as waiting; it is never an error a user
 * sees. `JobContext.isControlSignal(e)` tells job code to rethrow it.
 */
export const SUSPEND: unique symbol = Symbol('baton.suspend');

/** Why a running job's signal was aborted. */
export type StopReason =
  | { kind: 'cancel'; reason?: string | undefined }
  | { kind: 'interrupt'; byJobId?: string | undefined; strategy: 'interrupt' | 'rollback' }
  | { kind: 'deadline' }
  | { kind: 'shutdown' }
  | { kind: 'lease-lost' };

/**
 * The abort reason the kernel uses, so that the run can tell why it was stopped. It carries no
 * stack: it says why a job stops, not where, and capturing one would sit on the path from
 * `cancel()` to the run stopping.
 */
export class StopSignal extends Error {
  readonly stop: StopReason;
  constructor(stop: StopReason) {
    const limit = Error.stackTraceLimit;
    const stackless = setStackTraceLimit(0);
    try {
      super(`job stopped: ${stop.kind}`);
    } finally {
      if (stackless) setStackTraceLimit(limit);
    }
    this.name = 'StopSignal';
    this.stop = stop;
  }
}

/** Sets `Error.stackTraceLimit` where it can be set (not where intrinsics are frozen); whether it was. */
function setStackTraceLimit(limit: number): boolean {
  try {
    Error.stackTraceLimit = limit;
    return true;
  } catch {
    return false;
  }
}

/**
 * What an interrupted job had achieved, handed to the job that interrupted it. Kept in the
 * interrupted job's record (`result.interrupted`), so any host can read it.
 */
export interface PreviousContext extends JsonObject {
  jobId: string;
  input: JsonValue;
  /** Text the model had streamed for the call in flight when the job was interrupted. */
  partialText: string;
  /** Finished steps: their ids, kinds, names and (short) outputs. */
  completedSteps: Array<{ stepId: string; kind: string; name: string; output: JsonValue }>;
  interruptedAt: number;
}
