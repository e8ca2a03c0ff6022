import { InvalidArgumentError } from '@baton/llm-client';
import { SubscriberOverflowError } from '../errors/store-errors.js';
import type { EventBus, EventGap, StreamOptions } from '../ports/event-bus.js';
import { FifoQueue } from './fifo-queue.js';
import type { RuntimeEvent } from './runtime-event.js';

const DEFAULT_MAX_BUFFERED = 10_000;

type StreamSource = Pick<EventBus, 'subscribe' | 'replay'> & Partial<Pick<EventBus, 'ready'>>;

/**
 * `EventBus.stream` on top of `subscribe` and `replay`: subscribes first (buffering live
 * events), waits until the bus hears other processes (`ready`), then replays from `fromSeq`,
 * then hands out the buffered and following live events, skipping seqs already replayed.
 * Nothing published after the call is missed, nothing is seen twice. A live event that comes
 * after a hole in the job's seqs (a notification lost while a connection was down) is preceded
 * by the missing events, read from the history, and when the bus says it may have missed some
 * (`onResync`) the history is read from the next seq; where the history no longer has them
 * (evicted), or the subscriber dropped them (`drop-oldest`), `onGap` says so.
 */
export function streamEvents(source: StreamSource, options: StreamOptions): AsyncIterable<RuntimeEvent> {
  const maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  if (!Number.isInteger(maxBuffered) || maxBuffered < 1) throw new InvalidArgumentError('maxBuffered', 'must be a positive integer');
  const overflow = options.overflow ?? 'disconnect';
  if (overflow !== 'disconnect' && overflow !== 'drop-oldest') throw new InvalidArgumentError('overflow', `unknown policy '${String(overflow)}'`);
  if (options.fromSeq !== undefined) {
    if (!Number.isInteger(options.fromSeq) || options.fromSeq < 1) throw new InvalidArgumentError('fromSeq', 'must be an integer ≥ 1');
    if (options.jobId === undefined || options.scopeId === undefined) {
      throw new InvalidArgumentError('fromSeq', 'needs jobId and scopeId: event seqs are per job');
    }
  }
  return { [Symbol.asyncIterator]: () => iterate(source, options, maxBuffered, overflow) };
}

async function* iterate(
  source: StreamSource,
  options: StreamOptions,
  maxBuffered: number,
  overflow: 'disconnect' | 'drop-oldest',
): AsyncGenerator<RuntimeEvent, void, undefined> {
  const { fromSeq, jobId, scopeId, signal, until, onGap } = options;
  const types = options.eventTypes ? new Set(options.eventTypes) : undefined;
  const queue = new FifoQueue<RuntimeEvent>();
  let failure: unknown;
  /** Set when the bus may have missed events of other processes: read the job's history again. */
  let resync = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  if (signal?.aborted) return;
  signal?.addEventListener('abort', notify);

  const reportDropped = (dropped: RuntimeEvent[]): void => {
    const first = dropped[0];
    const last = dropped[dropped.length - 1];
    if (first && last) {
      onGap?.({ dropped: dropped.length, first: { jobId: first.jobId, seq: first.seq }, last: { jobId: last.jobId, seq: last.seq } });
    }
  };
  const unsubscribe = source.subscribe(
    (event) => {
      if (failure !== undefined) return;
      if (queue.length >= maxBuffered) {
        if (overflow === 'disconnect') {
          failure = new SubscriberOverflowError(maxBuffered);
          notify();
          return;
        }
        const dropped = queue.shift();
        // With a replay, the seq check below reports the hole.
        if (dropped && fromSeq === undefined) reportDropped([dropped]);
      }
      queue.push(event);
      notify();
    },
    {
      jobId,
      scopeId,
      sessionId: options.sessionId,
      // With a replay, types are filtered here so that seq gaps are real gaps.
      eventTypes: fromSeq === undefined ? options.eventTypes : undefined,
      maxQueue: maxBuffered,
      overflow,
      onGap: fromSeq === undefined ? (gap: EventGap) => onGap?.(gap) : undefined,
      onDisconnect: (error) => {
        failure ??= error;
        notify();
      },
      onResync: () => {
        resync = true;
        notify();
      },
    },
  );

  // Per-job continuity when replaying: the next seq expected from this job.
  let expected = fromSeq;
  const admit = (event: RuntimeEvent): boolean => {
    if (expected !== undefined) {
      if (event.seq < expected) return false;
      if (event.seq > expected) {
        onGap?.({ dropped: event.seq - expected, first: { jobId: event.jobId, seq: expected }, last: { jobId: event.jobId, seq: event.seq - 1 } });
      }
      expected = event.seq + 1;
    }
    return types === undefined || types.has(event.type);
  };

  // With a replay and nothing dropped on purpose, a hole in the job's seqs is filled from its history.
  const fills = fromSeq !== undefined && jobId !== undefined && scopeId !== undefined && overflow === 'disconnect';
  /** The job's history from seq `from` (up to, not including, seq `before`), as the stream hands it out; true once the stream ends. */
  async function* fromHistory(from: number, before?: number): AsyncGenerator<RuntimeEvent, boolean, undefined> {
    const events = await source.replay({ jobId: jobId!, scopeId: scopeId!, fromSeq: from, limit: before === undefined ? undefined : before - from });
    for (const event of events) {
      if (signal?.aborted) return true;
      if ((before !== undefined && event.seq >= before) || !admit(event)) continue;
      yield event;
      if (until?.(event)) return true;
    }
    return false;
  }
  try {
    if (fromSeq !== undefined && jobId !== undefined && scopeId !== undefined) {
      // Events of other processes that the replay does not hold arrive live from here on.
      await source.ready?.().catch(() => undefined);
      if (signal?.aborted) return;
      if (yield* fromHistory(fromSeq)) return;
    }
    for (;;) {
      if (signal?.aborted) return;
      if (resync && fills && expected !== undefined) {
        resync = false;
        if (yield* fromHistory(expected)) return;
      }
      const event = queue.shift();
      if (event !== undefined) {
        if (fills && expected !== undefined && event.seq > expected && (yield* fromHistory(expected, event.seq))) return;
        if (!admit(event)) continue;
        yield event;
        if (until?.(event)) return;
        continue;
      }
      if (failure !== undefined) throw failure;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', notify);
  }
}
