import { isTerminalJobStatus, SubscriberOverflowError, TERMINAL_JOB_EVENT_TYPES, type JobRecord, type RuntimeEvent } from '@baton/agent-runtime';
import { encodeSessionCursor, type SessionCursorEntry } from './session-cursor.js';
import type { EventChannel } from './event-channel.js';
import { eventJson, sendStreamError, type StreamDeps } from './stream-deps.js';

export interface SessionStreamRequest {
  readonly scopeId: string;
  readonly sessionId: string;
  /** From `Last-Event-ID`; `undefined` for a new stream. */
  readonly cursor: readonly SessionCursorEntry[] | undefined;
  /** Live events held for a slow client before the stream ends with `stream.error` (it can resume). */
  readonly maxBuffered: number;
}

interface Followed {
  /** Last seq delivered (0: none yet). */
  seq: number;
  readonly createdAt: number;
  /** Its terminal event was delivered (or the job ended and its history is gone). */
  terminal: boolean;
}

const ACTIVE_STATUSES = ['queued', 'running', 'waiting_for_action'] as const;
const MAX_FOLLOWED = 256;
const MAX_MEMBERSHIP_CACHE = 10_000;

/**
 * Sends every event of a session's jobs on `channel` until the client leaves. A new stream
 * starts with the retained events of the session's active jobs; a resumed one (cursor from
 * `Last-Event-ID`, see `encodeSessionCursor`) continues each job it names after its seq, then
 * sends the jobs created since (at or after the newest job it names) from their first event.
 * Replayed events come job by job in creation order, live ones in publish order; a job's events
 * are always in seq order, never twice.
 *
 * Ids: the stream keeps, in every event id, the jobs it still follows: each job not yet ended,
 * and the newest job(s) (by `createdAt`) even once ended. Ended older jobs drop out. On resume,
 * a session job that the id does not name is sent from its first event only when it is at least
 * as new as the newest job named, so an ended job is never sent twice and a new one never missed.
 */
export async function pumpSessionEvents(deps: StreamDeps, request: SessionStreamRequest, channel: EventChannel): Promise<void> {
  const { scopeId, sessionId } = request;
  const bus = deps.kernel.stores.events;
  const followed = new Map<string, Followed>();
  const membership = new Map<string, boolean>();
  let newest = Number.NEGATIVE_INFINITY;
  let queue: RuntimeEvent[] = [];
  let head = 0;
  let failure: unknown;
  /** Set when the bus may have missed events of other processes: the session is read again. */
  let resync = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const follow = (job: JobRecord, seq: number): Followed => {
    const entry: Followed = { seq, createdAt: job.createdAt, terminal: false };
    followed.set(job.id, entry);
    membership.set(job.id, true);
    if (job.createdAt > newest) newest = job.createdAt;
    return entry;
  };

  const cursorFor = (event: RuntimeEvent): string => {
    const entries: SessionCursorEntry[] = [{ jobId: event.jobId, seq: event.seq }];
    for (const [jobId, f] of followed) {
      if (jobId !== event.jobId && f.seq > 0 && (!f.terminal || f.createdAt >= newest)) entries.push({ jobId, seq: f.seq });
    }
    return encodeSessionCursor(entries);
  };

  const prune = (): void => {
    if (followed.size <= MAX_FOLLOWED) return;
    for (const [jobId, f] of followed) if (f.terminal && f.createdAt < newest) followed.delete(jobId);
  };

  const deliver = async (event: RuntimeEvent, f: Followed): Promise<boolean> => {
    if (event.seq <= f.seq) return true;
    if (f.seq > 0 && event.seq > f.seq + 1) {
      // A hole (a notification of another process lost on the way): the job's history fills it.
      const missing = await bus.replay({ jobId: event.jobId, scopeId, fromSeq: f.seq + 1, limit: event.seq - f.seq - 1 });
      for (const m of missing) {
        if (m.seq !== f.seq + 1 || m.seq >= event.seq) continue;
        if (!(await deliver(m, f))) return false;
      }
    }
    if (f.seq > 0 && event.seq > f.seq + 1) {
      channel.message(undefined, 'stream.gap', JSON.stringify({ dropped: event.seq - f.seq - 1, first: { jobId: event.jobId, seq: f.seq + 1 }, last: { jobId: event.jobId, seq: event.seq - 1 } }));
    }
    f.seq = event.seq;
    if (TERMINAL_JOB_EVENT_TYPES.has(event.type)) f.terminal = true;
    channel.message(cursorFor(event), event.type, eventJson(deps, event));
    prune();
    return channel.writable();
  };

  // Subscribe before reading anything, so that nothing published from now on is missed.
  const unsubscribe = bus.subscribe(
    (event) => {
      if (event.sessionId !== undefined && event.sessionId !== sessionId) return;
      if (queue.length - head >= request.maxBuffered) {
        failure ??= new SubscriberOverflowError(request.maxBuffered);
      } else {
        queue.push(event);
      }
      notify();
    },
    {
      scopeId,
      maxQueue: request.maxBuffered,
      overflow: 'disconnect',
      onDisconnect: (error) => ((failure ??= error), notify()),
      onResync: () => ((resync = true), notify()),
    },
  );
  channel.signal.addEventListener('abort', notify, { once: true });

  /** Sends the retained events of each planned job from its seq; false once the client is gone. */
  const replayJobs = async (plan: Array<{ job: JobRecord; fromSeq: number }>): Promise<boolean> => {
    for (const { job, fromSeq } of plan) {
      const f = followed.get(job.id) ?? follow(job, 0);
      const events = await bus.replay({ jobId: job.id, scopeId, fromSeq });
      const first = events[0];
      if (first && f.seq === 0 && first.seq > fromSeq) {
        channel.message(undefined, 'stream.gap', JSON.stringify({ dropped: first.seq - fromSeq, first: { jobId: job.id, seq: fromSeq }, last: { jobId: job.id, seq: first.seq - 1 } }));
      }
      for (const event of events) if (!(await deliver(event, f))) return false;
      if (!f.terminal && isTerminalJobStatus(job.status)) {
        // Ended before we looked: nothing more will come once its last retained event is out.
        const last = await bus.replay({ jobId: job.id, scopeId, fromSeq: Math.max(1, f.seq) });
        if (last.length === 0 || (last.length === 1 && TERMINAL_JOB_EVENT_TYPES.has(last[0]!.type))) f.terminal = true;
      }
    }
    return true;
  };

  try {
    // Events of other processes that the history read below does not hold arrive live from here on.
    await bus.ready().catch(() => undefined);
    if (!(await replayJobs(await replayPlan(deps, request, follow, () => newest)))) return;

    for (;;) {
      if (channel.closed) return;
      if (resync) {
        // The bus may have missed events of other processes: continue each followed job after
        // its last seq sent, and pick up the session's jobs created since, as a resumed stream would.
        resync = false;
        const cursor = [...followed].filter(([, f]) => f.seq > 0 && !f.terminal).map(([jobId, f]) => ({ jobId, seq: f.seq }));
        if (!(await replayJobs(await replayPlan(deps, { ...request, cursor: cursor.length > 0 ? cursor : undefined }, follow, () => newest)))) return;
        continue;
      }
      const event = queue[head];
      if (event === undefined) {
        if (failure !== undefined) throw failure;
        queue = [];
        head = 0;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      queue[head++] = undefined as unknown as RuntimeEvent;
      if (head > 1024 && head * 2 > queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
      let f = followed.get(event.jobId);
      if (f === undefined) {
        if (membership.get(event.jobId) === false) continue;
        const job = await deps.kernel.getJob(event.jobId, scopeId);
        if (!job || job.sessionId !== sessionId) {
          if (membership.size > MAX_MEMBERSHIP_CACHE) membership.clear();
          membership.set(event.jobId, false);
          continue;
        }
        f = follow(job, 0);
      }
      if (!(await deliver(event, f))) return;
    }
  } catch (error) {
    sendStreamError(channel, deps, error);
  } finally {
    unsubscribe();
    channel.signal.removeEventListener('abort', notify);
    channel.close();
  }
}

/** The jobs to replay first, oldest first, and the seq to start each from. */
async function replayPlan(
  deps: StreamDeps,
  request: SessionStreamRequest,
  follow: (job: JobRecord, seq: number) => Followed,
  newest: () => number,
): Promise<Array<{ job: JobRecord; fromSeq: number }>> {
  const { scopeId, sessionId } = request;
  const plan: Array<{ job: JobRecord; fromSeq: number }> = [];
  for (const entry of request.cursor ?? []) {
    const job = await deps.kernel.getJob(entry.jobId, scopeId);
    if (!job || job.sessionId !== sessionId) continue;
    follow(job, entry.seq);
    plan.push({ job, fromSeq: entry.seq + 1 });
  }
  const named = new Set(plan.map((p) => p.job.id));
  if (named.size > 0) {
    // Jobs at least as new as the newest named one, not named: not seen yet.
    const since = newest();
    let cursor: string | undefined;
    outer: do {
      const page = await deps.kernel.listJobs({ scopeId, sessionId, order: 'desc', limit: 100, cursor });
      for (const job of page.jobs) {
        if (job.createdAt < since) break outer;
        if (!named.has(job.id)) plan.push({ job, fromSeq: 1 });
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  } else {
    let cursor: string | undefined;
    do {
      const page = await deps.kernel.listJobs({ scopeId, sessionId, status: [...ACTIVE_STATUSES], order: 'asc', limit: 100, cursor });
      for (const job of page.jobs) plan.push({ job, fromSeq: 1 });
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
  return plan.sort((a, b) => a.job.createdAt - b.job.createdAt || (a.job.id < b.job.id ? -1 : a.job.id > b.job.id ? 1 : 0));
}
