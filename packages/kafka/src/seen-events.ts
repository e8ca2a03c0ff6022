interface JobSeen {
  /** Every seq ≤ this was seen. */
  upTo: number;
  /** Seqs above `upTo` seen (out of order, or after a gap). */
  readonly above: Set<number>;
}

/**
 * Remembers which `(scope, job, seq)` were seen, to drop Kafka's redeliveries. Memory is bounded:
 * at most `maxJobs` jobs (the least recently seen one is forgotten first) and, per job, at most
 * `maxAbovePerJob` seqs past a gap (past that the gap is taken as never coming).
 */
export class SeenEvents {
  readonly #jobs = new Map<string, JobSeen>();

  constructor(
    private readonly maxJobs: number,
    private readonly maxAbovePerJob = 10_000,
  ) {}

  get trackedJobs(): number {
    return this.#jobs.size;
  }

  has(scopeId: string, jobId: string, seq: number): boolean {
    const job = this.#jobs.get(`${scopeId}\u0000${jobId}`);
    return job !== undefined && (seq <= job.upTo || job.above.has(seq));
  }

  add(scopeId: string, jobId: string, seq: number): void {
    const key = `${scopeId}\u0000${jobId}`;
    let job = this.#jobs.get(key);
    if (job) {
      this.#jobs.delete(key); // most recently seen last
    } else {
      job = { upTo: 0, above: new Set() };
      if (this.#jobs.size >= this.maxJobs) this.#jobs.delete(this.#jobs.keys().next().value!);
    }
    this.#jobs.set(key, job);
    if (seq <= job.upTo) return;
    job.above.add(seq);
    while (job.above.delete(job.upTo + 1)) job.upTo++;
    if (job.above.size > this.maxAbovePerJob) {
      const lowest = Math.min(...job.above);
      job.upTo = lowest;
      job.above.delete(lowest);
      while (job.above.delete(job.upTo + 1)) job.upTo++;
    }
  }
}
