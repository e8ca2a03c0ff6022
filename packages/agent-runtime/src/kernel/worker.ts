import { BatonError, InvalidArgumentError } from '@baton/llm-client';
import type { JobRecord } from '../jobs/job-record.js';
import { isTerminalJobStatus } from '../jobs/job-status.js';
import type { ResumeReads } from '../ports/action-store.js';
import type { ClaimedJob, ClaimOptions, JobQueue } from '../ports/job-queue.js';
import { HAND_BACK_RETRY_MS, type ActiveRun, type RunLease, type RunMode } from './job-runner.js';
import { StopSignal } from './run-control.js';

/** How long a job queued behind its session's running job waits before it is tried again. */
const SESSION_RETRY_MS = 100;

export interface WorkerOptions {
  /** Jobs this worker runs at once (default 4). */
  concurrency?: number;
  /** How long a claim holds a job without a heartbeat (default 30 s). */
  leaseMs?: number;
  /** How often a running job's lease is extended (default a third of `leaseMs`). */
  heartbeatMs?: number;
  /** How often an idle worker looks for work when no wake-up signal comes (default 500 ms). */
  pollMs?: number;
  /** At most this many jobs of one scope running on this worker at once (none by default). */
  perScopeLimit?: number;
}

/** What a worker needs from its kernel. */
export interface WorkerHost {
  readonly hostId: string;
  readonly queue: JobQueue;
  /** The stores its runs read a job's journal and actions from (asked of the claim: `ClaimOptions.reads`). */
  readonly reads?: ClaimOptions['reads'];
  loadJob(jobId: string, scopeId: string): Promise<JobRecord | undefined>;
  /** `reads`: the job's journal and actions, read with its claim. */
  launchLeased(job: JobRecord, mode: RunMode, lease: RunLease, reads?: ResumeReads): ActiveRun;
  markDeadLettered(jobId: string, scopeId: string, reason: string, claims: number): Promise<void>;
  /** Whether another job of the job's session is running (a session runs one job at a time). */
  sessionBusy(job: JobRecord): Promise<boolean>;
  onWake(handler: () => void): Promise<() => Promise<void>>;
  onError(error: unknown): void;
}

/**
 * Claims queued jobs from the `JobQueue` under a lease that a heartbeat extends, runs each from
 * its journal (journal writes fenced by the lease epoch, so a worker that lost its lease cannot
 * write), acks it when it reaches a resting state, and dead-letters poison jobs the queue gives
 * up on. A worker that dies simply stops heartbeating: its jobs are claimed again elsewhere.
 */
export class Worker {
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly perScopeLimit: number | undefined;
  private readonly running = new Map<string, { run: ActiveRun; claim: ClaimedJob; timer: ReturnType<typeof setInterval> }>();
  private stopping = false;
  private wake: (() => void) | undefined;
  /** A wake-up that came while the loop was not idle (claiming): the next idle returns at once. */
  private woken = false;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly host: WorkerHost,
    options: WorkerOptions = {},
  ) {
    this.concurrency = positiveInt(options.concurrency ?? 4, 'concurrency');
    this.leaseMs = positiveInt(options.leaseMs ?? 30_000, 'leaseMs');
    this.heartbeatMs = positiveInt(options.heartbeatMs ?? Math.max(1, Math.floor(this.leaseMs / 3)), 'heartbeatMs');
    if (this.heartbeatMs >= this.leaseMs) throw new InvalidArgumentError('heartbeatMs', 'must be shorter than leaseMs');
    this.pollMs = positiveInt(options.pollMs ?? 500, 'pollMs');
    this.perScopeLimit = options.perScopeLimit === undefined ? undefined : positiveInt(options.perScopeLimit, 'perScopeLimit');
  }

  /** Jobs running on this worker now. */
  get active(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    this.unsubscribe = await this.host.onWake(() => this.nudge());
    this.loop = this.run();
  }

  /**
   * Stops claiming; waits up to `deadlineMs` for running jobs to reach a resting state, then
   * hands the rest back (requeued, continued elsewhere from their journals).
   */
  async stop(options: { deadlineMs?: number } = {}): Promise<void> {
    this.stopping = true;
    this.nudge();
    await this.loop;
    await this.unsubscribe?.().catch((e: unknown) => this.host.onError(e));
    const runs = [...this.running.values()].map((r) => r.run.done);
    const deadline = options.deadlineMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), deadline)));
    const outcome = await Promise.race([Promise.allSettled(runs), timedOut]);
    if (timer) clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const { run } of this.running.values()) run.controller.abort(new StopSignal({ kind: 'shutdown' }));
      await Promise.allSettled([...this.running.values()].map((r) => r.run.done));
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const free = this.concurrency - this.running.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const result = await this.host.queue.claim({ workerId: this.host.hostId, leaseMs: this.leaseMs, limit: free, perScopeLimit: this.perScopeLimit, reads: this.host.reads });
          for (const dead of result.deadLettered) await this.host.markDeadLettered(dead.jobId, dead.scopeId, dead.reason, dead.claims).catch((e: unknown) => this.host.onError(e));
          for (const claim of result.jobs) {
            claimed++;
            try {
              await this.launch(claim);
            } catch (error) {
              // Not started (its record unreadable, a store failing): offered again shortly, and the
              // batch's other jobs still start. One that can never start reaches maxClaims and is dead-lettered.
              this.host.onError(error);
              await this.host.queue.release({ ...claim, delayMs: HAND_BACK_RETRY_MS }).catch((e: unknown) => this.host.onError(e));
            }
          }
        } catch (error) {
          this.host.onError(error);
        }
      }
      // A claim that got fewer jobs than it asked for found the queue without more for now: wait
      // for a wake-up (a job enqueued, a run ended) or the poll rather than asking again at once.
      if (claimed < free || this.running.size >= this.concurrency) await this.idle();
    }
  }

  /** Wakes the loop: at once when it is idle, else when it next would be (nothing is missed while it claims). */
  private nudge(): void {
    if (this.wake) this.wake();
    else this.woken = true;
  }

  /** Sleeps until a wake-up signal, a finished job, or the poll interval (not at all after a wake-up it missed). */
  private idle(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pollMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  private async launch(claim: ClaimedJob): Promise<void> {
    const lease: RunLease = { owner: claim.workerId, epoch: claim.epoch, expiresAt: claim.leaseExpiresAt };
    const job = claim.job?.id === claim.jobId && claim.job.scopeId === claim.scopeId ? claim.job : await this.host.loadJob(claim.jobId, claim.scopeId);
    if (!job || isTerminalJobStatus(job.status)) {
      await this.host.queue.ack(claim).catch((e: unknown) => this.host.onError(e));
      return;
    }
    const mode: RunMode = job.status === 'waiting_for_action' ? 'resume' : job.status === 'running' ? 'takeover' : 'start';
    if (mode === 'start' && (await this.host.sessionBusy(job))) {
      // Queued behind its session's running job (strategy `enqueue`): try again shortly.
      await this.host.queue.release({ ...claim, delayMs: SESSION_RETRY_MS }).catch((e: unknown) => this.host.onError(e));
      return;
    }
    // Journal and actions read by the claim are those of the job as it waited: good for a resume only.
    const run = this.host.launchLeased(job, mode, lease, mode === 'resume' && job === claim.job ? claim.reads : undefined);
    const timer = setInterval(() => {
      this.host.queue.heartbeat({ ...claim, leaseMs: this.leaseMs }).catch((error: unknown) => {
        if (BatonError.isInstance(error) && error.code === 'lease_lost') run.controller.abort(new StopSignal({ kind: 'lease-lost' }));
        else this.host.onError(error);
      });
    }, this.heartbeatMs);
    timer.unref?.();
    this.running.set(claim.jobId, { run, claim, timer });
    void run.done.then(
      async (outcome) => {
        clearInterval(timer);
        this.running.delete(claim.jobId);
        if (outcome.status === 'lease_lost') {
          // Fenced out: by another worker's takeover (its lease is not ours to ack), or by a cancel
          // or interrupt written from another host, which ended the job while this lease still
          // holds the queue row: acked now rather than left until the lease expires.
          const job = await this.host.loadJob(claim.jobId, claim.scopeId).catch(() => undefined);
          if (job && isTerminalJobStatus(job.status)) await this.host.queue.ack(claim).catch(() => undefined);
        } else if (!(outcome.status === 'completed' && outcome.acked)) {
          if (outcome.status === 'handed_back') await this.host.queue.release({ ...claim, delayMs: outcome.retryInMs }).catch((e: unknown) => this.host.onError(e));
          else await this.host.queue.ack(claim).catch((e: unknown) => this.host.onError(e));
        }
        this.nudge();
      },
      (error: unknown) => {
        clearInterval(timer);
        this.running.delete(claim.jobId);
        this.host.onError(error);
        this.nudge();
      },
    );
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(name, 'must be a positive integer');
  return value;
}
