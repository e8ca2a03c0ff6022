import { AbortError, InvalidArgumentError } from '@baton/llm-client';
import type { RuntimeEvent, RuntimeEventInput } from '../events/runtime-event.js';
import type { EventBus } from '../ports/event-bus.js';
import type { Recording } from './recording.js';

/** How `ReplayPlayer.replay` paces the events. */
export const ReplayMode = {
  /** One after another, as fast as the bus takes them. */
  FAST: 'fast',
  /** With the original spacing between events, divided by `speed`. */
  TIMED: 'timed',
} as const;
export type ReplayMode = (typeof ReplayMode)[keyof typeof ReplayMode];

export interface ReplayPlaybackOptions {
  mode?: ReplayMode;
  /** TIMED only: 2 plays twice as fast, 0.5 half as fast (default 1). */
  speed?: number;
  signal?: AbortSignal;
}

export interface ReplayStats {
  events: number;
  /** Wall time the replay took, on the player's clock. */
  durationMs: number;
}

export interface ReplayPlayerOptions {
  /**
   * The job id the events are published under (default: the original). Publishing into the bus
   * that holds the original job would append to its history: map the ids there.
   */
  mapJobId?: (jobId: string) => string;
  _internal?: { now?: () => number; sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void> };
}

/**
 * Re-emits a recording's events on an event bus, for a UI or an observer to see the run again
 * (no job runs, no model is called). The bus assigns new seqs and ids; `at` keeps the original time.
 */
export class ReplayPlayer {
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  private readonly mapJobId: (jobId: string) => string;

  constructor(
    private readonly recording: Recording,
    private readonly bus: EventBus,
    options: ReplayPlayerOptions = {},
  ) {
    if (!recording || !Array.isArray(recording.events)) throw new InvalidArgumentError('recording', 'must be a Recording');
    if (typeof bus?.publish !== 'function') throw new InvalidArgumentError('eventBus', 'must be an EventBus');
    this.now = options._internal?.now ?? Date.now;
    this.sleep = options._internal?.sleep ?? sleepFor;
    this.mapJobId = options.mapJobId ?? ((id) => id);
  }

  /** Publishes every event, in order; resolves once the last one is published. */
  async replay(options: ReplayPlaybackOptions = {}): Promise<ReplayStats> {
    const mode = options.mode ?? ReplayMode.FAST;
    if (mode !== ReplayMode.FAST && mode !== ReplayMode.TIMED) throw new InvalidArgumentError('mode', "must be ReplayMode.FAST or ReplayMode.TIMED");
    const speed = options.speed ?? 1;
    if (!(typeof speed === 'number' && Number.isFinite(speed) && speed > 0)) throw new InvalidArgumentError('speed', 'must be a positive number');
    const started = this.now();
    let previous: RuntimeEvent | undefined;
    let count = 0;
    for (const event of this.recording.events) {
      if (options.signal?.aborted) throw new AbortError(options.signal.reason);
      if (mode === ReplayMode.TIMED && previous) {
        const gap = Math.max(0, event.at - previous.at) / speed;
        if (gap > 0) await this.sleep(gap, options.signal);
      }
      await this.publish(event);
      previous = event;
      count++;
    }
    return { events: count, durationMs: this.now() - started };
  }

  /** Publishes the events one at a time, each when the consumer asks for the next (no pacing). */
  async *step(): AsyncGenerator<RuntimeEvent, void, undefined> {
    for (const event of this.recording.events) yield await this.publish(event);
  }

  private publish(event: RuntimeEvent): Promise<RuntimeEvent> {
    const input = { type: event.type, jobId: this.mapJobId(event.jobId), scopeId: event.scopeId, sessionId: event.sessionId, traceId: event.traceId, data: event.data, at: event.at } as RuntimeEventInput;
    return this.bus.publish(input);
  }
}

function sleepFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError(signal.reason));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(signal?.reason));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
