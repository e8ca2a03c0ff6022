import type { JobTrace } from './job-trace.js';

/**
 * The jobs with open spans, least recently active first. Bounded twice: past `maxJobs` the
 * least recently active job is evicted, and `expired` hands back the jobs idle for `ttlMs`, so
 * a job that never ends (a lost worker, a missed event) cannot hold spans forever.
 */
export class JobTraceRegistry {
  readonly #jobs = new Map<string, JobTrace>();

  constructor(
    private readonly maxJobs: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.#jobs.size;
  }

  get(key: string): JobTrace | undefined {
    return this.#jobs.get(key);
  }

  /** Marks a job as just active (moves it to the back of the eviction order). */
  touch(job: JobTrace, now: number, at: number): void {
    job.touchedAt = now;
    if (at > job.lastEventAt) job.lastEventAt = at;
    this.#jobs.delete(job.key);
    this.#jobs.set(job.key, job);
  }

  /** Adds a job; returns the jobs evicted to stay within `maxJobs`. */
  add(job: JobTrace): JobTrace[] {
    this.#jobs.set(job.key, job);
    const evicted: JobTrace[] = [];
    while (this.#jobs.size > this.maxJobs) {
      const oldest = this.#jobs.values().next().value as JobTrace;
      this.#jobs.delete(oldest.key);
      evicted.push(oldest);
    }
    return evicted;
  }

  delete(job: JobTrace): void {
    if (this.#jobs.get(job.key) === job) this.#jobs.delete(job.key);
  }

  /** Removes and returns the jobs with no event for `ttlMs` as of `now`. */
  takeExpired(now: number): JobTrace[] {
    const out: JobTrace[] = [];
    for (const job of this.#jobs.values()) {
      if (now - job.touchedAt < this.ttlMs) break;
      out.push(job);
    }
    for (const job of out) this.#jobs.delete(job.key);
    return out;
  }

  /** Removes and returns every job. */
  takeAll(): JobTrace[] {
    const out = [...this.#jobs.values()];
    this.#jobs.clear();
    return out;
  }

  /** Open spans held (job, run and calls of sampled jobs). */
  openSpans(): number {
    let n = 0;
    for (const job of this.#jobs.values()) {
      if (!job.sampled) continue;
      n += (job.job ? 1 : 0) + (job.run ? 1 : 0);
      for (const call of job.calls.values()) if (call.span) n++;
    }
    return n;
  }
}
