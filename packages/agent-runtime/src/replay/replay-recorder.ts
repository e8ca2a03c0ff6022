import { InvalidArgumentError } from '@baton/llm-client';
import type { RuntimeEvent } from '../events/runtime-event.js';
import { toFrozenJson, type JsonValue } from '../jobs/json-value.js';
import type { JournalEntry } from '../journal/journal-entry.js';
import type { EventBus, EventFilter, EventUnsubscribe } from '../ports/event-bus.js';
import type { JobStore } from '../ports/job-store.js';
import type { JournalStore } from '../ports/journal-store.js';
import { Recording, type RecordedJob } from './recording.js';
import type { RunMetadata } from './run-metadata.js';

export interface ReplayRecorderOptions {
  /** Which events to record (default: every event the bus publishes). */
  filter?: EventFilter;
  /** With it, `stop()` adds the journal of every job seen: what deterministic re-execution and forks need. */
  journal?: JournalStore;
  /** With it, `stop()` adds each job seen (scope, principal, input, workflow). */
  jobs?: JobStore;
  now?: () => number;
}

/**
 * Records a run from the event bus: `start(input)` subscribes, `stop()` unsubscribes and
 * returns the `Recording`. Events come from the subscription and, for each job seen, from the
 * bus's retained history (so an event still in delivery when `stop()` is called is not lost);
 * with the stores given, the jobs and their journals are added too.
 */
export class ReplayRecorder {
  private readonly now: () => number;
  private readonly events = new Map<string, RuntimeEvent>();
  /** Job → the first seq seen. */
  private readonly seen = new Map<string, { scopeId: string; firstSeq: number }>();
  private unsubscribe: EventUnsubscribe | undefined;
  private startedAt = 0;
  private initialInput: JsonValue = null;
  private state: 'idle' | 'recording' | 'stopped' = 'idle';

  constructor(
    private readonly bus: EventBus,
    private readonly metadata: RunMetadata,
    private readonly options: ReplayRecorderOptions = {},
  ) {
    if (typeof bus?.subscribe !== 'function') throw new InvalidArgumentError('eventBus', 'must be an EventBus');
    if (typeof metadata?.runtimeVersion !== 'string') throw new InvalidArgumentError('metadata', 'must be a RunMetadata (RunMetadata.create)');
    this.now = options.now ?? Date.now;
  }

  get recording(): boolean {
    return this.state === 'recording';
  }

  /** Starts recording; `initialInput` is kept with the recording (what the run was asked). */
  start(initialInput: unknown = null): void {
    if (this.state !== 'idle') throw new InvalidArgumentError('recorder', 'already started (a recorder records once)');
    this.initialInput = toFrozenJson(initialInput ?? null, 'initialInput');
    this.startedAt = this.now();
    this.state = 'recording';
    this.unsubscribe = this.bus.subscribe((event) => this.add(event), { ...this.options.filter, maxQueue: 100_000 });
  }

  /** Stops recording and returns what was recorded. */
  async stop(): Promise<Recording> {
    if (this.state !== 'recording') throw new InvalidArgumentError('recorder', 'not recording');
    // Let events published before this call reach the subscriber.
    await new Promise((r) => setImmediate(r));
    this.unsubscribe?.();
    this.state = 'stopped';
    const stoppedAt = this.now();
    const journals: Record<string, JournalEntry[]> = {};
    const jobs: RecordedJob[] = [];
    for (const [jobId, { scopeId, firstSeq }] of this.seen) {
      const retained = await this.bus.replay({ jobId, scopeId, fromSeq: firstSeq });
      for (const e of retained) if (this.matches(e)) this.add(e);
      if (this.options.journal) journals[jobId] = [...(await this.options.journal.list({ jobId, scopeId }))];
      const job = this.options.jobs ? await this.options.jobs.get({ jobId, scopeId }) : undefined;
      if (job) {
        jobs.push({
          jobId,
          scopeId,
          principalId: job.principalId,
          input: job.input,
          status: job.status,
          metadata: job.metadata,
          ...(job.result !== undefined ? { result: job.result } : {}),
          ...(job.parentJobId ? { parentJobId: job.parentJobId } : {}),
        });
      }
    }
    const events = mergeByTime([...this.events.values()]);
    return new Recording({ metadata: this.metadata, initialInput: this.initialInput, startedAt: this.startedAt, stoppedAt, events, journals, jobs });
  }

  private add(event: RuntimeEvent): void {
    const key = `${event.jobId}\u0000${event.seq}`;
    if (this.events.has(key)) return;
    this.events.set(key, event);
    const seen = this.seen.get(event.jobId);
    if (!seen) this.seen.set(event.jobId, { scopeId: event.scopeId, firstSeq: event.seq });
    else if (event.seq < seen.firstSeq) seen.firstSeq = event.seq;
  }

  private matches(event: RuntimeEvent): boolean {
    const f = this.options.filter;
    if (!f) return true;
    if (f.eventTypes && !f.eventTypes.includes(event.type)) return false;
    if (f.sessionId && event.sessionId !== f.sessionId) return false;
    return true;
  }
}

/**
 * Orders events: each job's by seq (its true order), the jobs interleaved by time (ties: the
 * order they arrived in), so a clock that differs between hosts never reorders a job's events.
 */
function mergeByTime(events: RuntimeEvent[]): RuntimeEvent[] {
  const byJob = new Map<string, RuntimeEvent[]>();
  for (const e of events) {
    const list = byJob.get(e.jobId) ?? [];
    list.push(e);
    byJob.set(e.jobId, list);
  }
  const queues = [...byJob.values()].map((list) => list.sort((a, b) => a.seq - b.seq));
  const heads = queues.map(() => 0);
  const out: RuntimeEvent[] = [];
  for (;;) {
    let best = -1;
    for (let q = 0; q < queues.length; q++) {
      const e = queues[q]![heads[q]!];
      if (e && (best < 0 || e.at < queues[best]![heads[best]!]!.at)) best = q;
    }
    if (best < 0) return out;
    out.push(queues[best]![heads[best]!++]!);
  }
}
