import type { EventBus, EventUnsubscribe, RuntimeEvent } from '@baton/agent-runtime';
import { InvalidArgumentError } from '@baton/llm-client';
import { resolveOTelConfig, type OTelConfig, type ResolvedOTelConfig } from './otel-config.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import { SpanTracker } from './span-tracker.js';

export interface OpenTelemetryAdapterStats {
  /** Events turned into telemetry so far. */
  readonly events: number;
  /** Jobs with spans open now, and those spans (job, run, calls). */
  readonly openJobs: number;
  readonly openSpans: number;
  /** Jobs whose spans the adapter ended for them: idle past the TTL, or past `maxOpenJobs`. */
  readonly evictedJobs: number;
  /** Events the bus dropped because the adapter fell `maxQueue` behind. */
  readonly droppedEvents: number;
  /** Events that raised an error while being recorded (reported to `onError`). */
  readonly errors: number;
}

/**
 * OpenTelemetry spans and metrics for every job, built from the runtime's events: construction
 * subscribes to the bus; each event updates the job's spans (`agent.job` ⊃ `agent.run` ⊃
 * `agent.model` / `agent.tool` / `agent.action` / `agent.step`, with the GenAI semantic
 * conventions) and the metrics. It works the same on the bus of the process that runs the
 * jobs and on one fed from Kafka or Redis, since it reads nothing but events.
 *
 * `close()` unsubscribes and ends the spans still open. The providers are not shut down: they
 * belong to the application, which flushes them.
 */
export class OpenTelemetryAdapter {
  readonly #config: ResolvedOTelConfig;
  readonly #spans: SpanTracker;
  readonly #metrics: RuntimeMetrics;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: EventUnsubscribe | undefined;
  #lastSweep: number;
  #events = 0;
  #dropped = 0;
  #errors = 0;

  constructor(eventBus: EventBus, config: OTelConfig = {}) {
    if (!eventBus || typeof eventBus.subscribe !== 'function') throw new InvalidArgumentError('eventBus', 'an EventBus is required');
    this.#config = resolveOTelConfig(config);
    this.#spans = new SpanTracker(this.#config);
    this.#metrics = new RuntimeMetrics(this.#config.meter, this.#config.prices);
    this.#lastSweep = this.#config.now();
    const { sweepIntervalMs } = this.#config;
    if (sweepIntervalMs > 0) {
      this.#timer = setInterval(() => this.#sweep(), sweepIntervalMs);
      // A sweep is housekeeping: it never keeps the process alive.
      (this.#timer as { unref?: () => void }).unref?.();
    }
    this.#unsubscribe = eventBus.subscribe((event) => this.record(event), {
      ...this.#config.filter,
      maxQueue: this.#config.maxQueue,
      overflow: 'drop-oldest',
      onGap: (gap) => {
        this.#dropped += gap.dropped;
        this.#config.onGap(gap);
      },
      onError: (error, event) => this.#fail(error, event),
    });
  }

  get stats(): OpenTelemetryAdapterStats {
    return { events: this.#events, ...this.#spans.stats, droppedEvents: this.#dropped, errors: this.#errors };
  }

  /**
   * Records one event as the bus subscription does. For events that reach the application
   * another way (read from a store, or a transport without a bus); never throws.
   */
  record(event: RuntimeEvent): void {
    if (!this.#unsubscribe) return;
    this.#events++;
    try {
      const closed = this.#spans.handle(event);
      this.#metrics.record(event, closed);
    } catch (error) {
      this.#fail(error, event);
    }
    // Expired jobs are looked for at most once a second of the clock, not on every event.
    if (this.#config.now() - this.#lastSweep >= 1000) this.#sweep();
  }

  /** Unsubscribes from the bus and ends every open span (`baton.span.ended_by: close`). Idempotent. */
  async close(): Promise<void> {
    if (!this.#unsubscribe) return;
    this.#unsubscribe();
    this.#unsubscribe = undefined;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#spans.endAll();
  }

  #sweep(): void {
    this.#lastSweep = this.#config.now();
    try {
      this.#spans.sweep();
    } catch {
      // A span implementation that throws on end: nothing more to do for those spans.
    }
  }

  #fail(error: unknown, event: RuntimeEvent): void {
    this.#errors++;
    this.#config.onError(error, event);
  }
}
