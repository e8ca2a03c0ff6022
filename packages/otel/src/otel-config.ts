import type { EventFilter, EventGap, RuntimeEvent } from '@baton/agent-runtime';
import { DEFAULT_PRICES, InvalidArgumentError, PriceTable } from '@baton/llm-client';
import { metrics, trace, type Meter, type MeterProvider, type Tracer, type TracerProvider } from '@opentelemetry/api';

/**
 * Content the runtime's events do not carry (a job's input, a model call's messages, a tool
 * call's arguments and result), supplied by the application. Called synchronously on the
 * events named below, and only when a capture flag asks for one of the fields; each field is
 * recorded only when its own flag is on.
 */
export type ContentSource = (event: RuntimeEvent) => CapturedContent | undefined;

export interface CapturedContent {
  /** `captureInput`: on `job.started` (the job's input) and `model.started` (the messages sent). */
  readonly input?: unknown;
  /** `captureOutput`: on `model.completed` and `tool.completed`. */
  readonly output?: unknown;
  /** `captureToolArgs`: on `tool.started`. */
  readonly toolArgs?: unknown;
}

export interface OTelConfig {
  /** Where spans go; default the global provider of `@opentelemetry/api`, read once at construction. */
  readonly tracerProvider?: TracerProvider | undefined;
  /** Where metrics go; default the global provider of `@opentelemetry/api`, read once at construction. */
  readonly meterProvider?: MeterProvider | undefined;
  /**
   * Record content that may hold personal data. All off by default. `captureInput`: what a
   * person was asked on `action.required` / answered on `action.resolved` (their `details`),
   * and `contentSource`'s `input`. `captureOutput`: the job's result (`job.completed`), the
   * text a model streamed (`model.delta`), and `contentSource`'s `output`. `captureToolArgs`:
   * `contentSource`'s `toolArgs` (the events carry no tool arguments).
   */
  readonly captureInput?: boolean | undefined;
  readonly captureOutput?: boolean | undefined;
  readonly captureToolArgs?: boolean | undefined;
  readonly contentSource?: ContentSource | undefined;
  /** Captured values are JSON, cut to this many characters; default 8,192. */
  readonly maxContentLength?: number | undefined;
  /** `recordException` on spans that fail (model, tool, step, job); default true. The error's message may hold data. */
  readonly recordExceptions?: boolean | undefined;
  /**
   * Share of jobs traced, in [0, 1]; default 1. Decided per job from its `traceId` (or `jobId`)
   * alone, so every host makes the same decision for the same job. Metrics count every job.
   */
  readonly samplingRate?: number | undefined;
  /** Jobs with open spans held at once; past it the least recently active job's spans are ended. Default 10,000. */
  readonly maxOpenJobs?: number | undefined;
  /** A job with open spans and no event for this long has them ended (`baton.span.ended_by: ttl`). Default 1 hour. */
  readonly openSpanTtlMs?: number | undefined;
  /** Open model/tool/step/action spans of one job at once; past it the oldest is ended. Default 1,000. */
  readonly maxOpenSpansPerJob?: number | undefined;
  /** Prices for the cost metric; default `DEFAULT_PRICES` of `@baton/llm-client`. Unpriced models count no cost. */
  readonly prices?: PriceTable | undefined;
  /** Which bus events to observe (default every event of every scope). */
  readonly filter?: EventFilter | undefined;
  /** The adapter's queue on the bus; past it the oldest events are dropped and `onGap` says which. Default 10,000. */
  readonly maxQueue?: number | undefined;
  readonly onGap?: ((gap: EventGap) => void) | undefined;
  /** An error while turning an event into telemetry (the event is skipped; telemetry never breaks a run). */
  readonly onError?: ((error: unknown, event: RuntimeEvent) => void) | undefined;
  /** Tests: the clock of the TTL (epoch ms), and the period of the background sweep (0: none). */
  readonly _internal?: { readonly now?: () => number; readonly sweepIntervalMs?: number } | undefined;
}

export interface ResolvedOTelConfig {
  readonly tracer: Tracer;
  readonly meter: Meter;
  readonly captureInput: boolean;
  readonly captureOutput: boolean;
  readonly captureToolArgs: boolean;
  readonly contentSource: ContentSource | undefined;
  readonly maxContentLength: number;
  readonly recordExceptions: boolean;
  readonly samplingRate: number;
  readonly maxOpenJobs: number;
  readonly openSpanTtlMs: number;
  readonly maxOpenSpansPerJob: number;
  readonly prices: PriceTable;
  readonly filter: EventFilter | undefined;
  readonly maxQueue: number;
  readonly onGap: (gap: EventGap) => void;
  readonly onError: (error: unknown, event: RuntimeEvent) => void;
  readonly now: () => number;
  readonly sweepIntervalMs: number;
}

export const INSTRUMENTATION_NAME = '@baton/otel';
export const INSTRUMENTATION_VERSION = '0.0.0';

/** Applies the defaults and checks every option; a bad one throws `InvalidArgumentError`. */
export function resolveOTelConfig(config: OTelConfig | undefined): ResolvedOTelConfig {
  const c = config ?? {};
  if (typeof c !== 'object') throw new InvalidArgumentError('config', 'must be an options object');
  const samplingRate = c.samplingRate ?? 1;
  if (typeof samplingRate !== 'number' || !(samplingRate >= 0 && samplingRate <= 1)) throw new InvalidArgumentError('samplingRate', 'must be a number in [0, 1]');
  if (c.tracerProvider !== undefined && typeof c.tracerProvider?.getTracer !== 'function') throw new InvalidArgumentError('tracerProvider', 'must be a TracerProvider');
  if (c.meterProvider !== undefined && typeof c.meterProvider?.getMeter !== 'function') throw new InvalidArgumentError('meterProvider', 'must be a MeterProvider');
  if (c.prices !== undefined && !(c.prices instanceof PriceTable)) throw new InvalidArgumentError('prices', 'must be a PriceTable');
  const onGap = optionalFunction(c.onGap, 'onGap');
  const onError = optionalFunction(c.onError, 'onError');
  const now = optionalFunction(c._internal?.now, '_internal.now') ?? Date.now;
  const sweepIntervalMs = c._internal?.sweepIntervalMs;
  if (sweepIntervalMs !== undefined && !(Number.isInteger(sweepIntervalMs) && sweepIntervalMs >= 0)) throw new InvalidArgumentError('_internal.sweepIntervalMs', 'must be an integer ≥ 0');
  const openSpanTtlMs = positiveInt(c.openSpanTtlMs, 'openSpanTtlMs', 3_600_000);
  return {
    tracer: c.tracerProvider ? c.tracerProvider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION) : trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION),
    meter: c.meterProvider ? c.meterProvider.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION) : metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION),
    captureInput: flag(c.captureInput, 'captureInput', false),
    captureOutput: flag(c.captureOutput, 'captureOutput', false),
    captureToolArgs: flag(c.captureToolArgs, 'captureToolArgs', false),
    contentSource: optionalFunction(c.contentSource, 'contentSource'),
    maxContentLength: positiveInt(c.maxContentLength, 'maxContentLength', 8192),
    recordExceptions: flag(c.recordExceptions, 'recordExceptions', true),
    samplingRate,
    maxOpenJobs: positiveInt(c.maxOpenJobs, 'maxOpenJobs', 10_000),
    openSpanTtlMs,
    maxOpenSpansPerJob: positiveInt(c.maxOpenSpansPerJob, 'maxOpenSpansPerJob', 1000),
    prices: c.prices ?? new PriceTable(DEFAULT_PRICES),
    filter: c.filter,
    maxQueue: positiveInt(c.maxQueue, 'maxQueue', 10_000),
    onGap: guarded(onGap),
    onError: guarded(onError),
    now,
    sweepIntervalMs: sweepIntervalMs ?? Math.min(60_000, openSpanTtlMs),
  };
}

function flag(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(name, 'must be a boolean');
  return value;
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidArgumentError(name, 'must be a positive integer');
  return value;
}

function optionalFunction<F>(value: F | undefined, name: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw new InvalidArgumentError(name, 'must be a function');
  return value;
}

/** A callback that cannot throw into the adapter: there is nowhere left to report to. */
function guarded<A extends unknown[]>(fn: ((...args: A) => void) | undefined): (...args: A) => void {
  if (!fn) return () => {};
  return (...args) => {
    try {
      fn(...args);
    } catch {
      // Nowhere left to report to.
    }
  };
}
