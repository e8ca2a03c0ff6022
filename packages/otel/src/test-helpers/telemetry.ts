import { InMemoryEventBus } from '@baton/agent-runtime';
import type { RuntimeEventInput } from '@baton/agent-runtime';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

/** A metric reader that only collects on demand. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface MetricPoint {
  readonly attributes: Record<string, unknown>;
  /** A counter's sum, or a histogram's count. */
  readonly value: number;
  /** A histogram's sum. */
  readonly sum?: number;
}

/** SDK providers with an in-memory span exporter and an on-demand metric reader. */
export function sdk() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    named: (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name),
    /** Every point of a metric, by its name; empty when it has none. */
    async metric(name: string): Promise<MetricPoint[]> {
      const { resourceMetrics } = await reader.collect();
      const out: MetricPoint[] = [];
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          if (metric.descriptor.name !== name) continue;
          for (const point of metric.dataPoints as Array<DataPoint<number | Histogram>>) {
            const v = point.value;
            out.push(typeof v === 'number' ? { attributes: point.attributes, value: v } : { attributes: point.attributes, value: v.count, sum: v.sum });
          }
        }
      }
      return out;
    },
    /** The sum of a counter's points (or a histogram's counts) whose attributes include `where`. */
    async total(name: string, where: Record<string, unknown> = {}): Promise<number> {
      const points = await this.metric(name);
      return points.filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v)).reduce((a, p) => a + p.value, 0);
    },
  };
}

export function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

export function spanId(span: ReadableSpan): string {
  return span.spanContext().spanId;
}

export function traceId(span: ReadableSpan): string {
  return span.spanContext().traceId;
}

/** Epoch ms of an SDK `HrTime`. */
export function ms(time: readonly [number, number]): number {
  return time[0] * 1000 + time[1] / 1e6;
}

/** Publishes hand-made events of one job, with `at` counting up from `start` by 10 ms unless given. */
export function jobEvents(bus: InMemoryEventBus, base: { jobId: string; scopeId?: string; traceId?: string; sessionId?: string }, start = 1_700_000_000_000) {
  let at = start;
  const scopeId = base.scopeId ?? 'acme';
  return async (type: RuntimeEventInput['type'], data: Record<string, unknown>, when?: number) => {
    at = when ?? at + 10;
    return bus.publish({ type, jobId: base.jobId, scopeId, traceId: base.traceId, sessionId: base.sessionId, data, at } as RuntimeEventInput);
  };
}

/** Lets the bus deliver what it queued (it hands events over on microtasks). */
export async function delivered(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}
