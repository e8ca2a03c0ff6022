/**
 * Events per second through the observers of the event bus, in one process, no network:
 * - OpenTelemetryAdapter with the OpenTelemetry SDK (TracerProvider + SimpleSpanProcessor +
 *   InMemorySpanExporter, MeterProvider with an on-demand reader), all jobs traced, 10 % traced,
 *   and metrics only;
 * - KafkaEventAdapter with a recording producer (kafkajs `sendBatch` that only counts), at once
 *   and with a simulated 2 ms broker round trip, batched and one event per batch.
 * The SDK packages are development dependencies of @baton/otel: they are loaded from there.
 * Run: node --conditions=source --expose-gc --import tsx src/otel-kafka.bench.ts
 * Prints tables; never exits non-zero on timing.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { InMemoryEventBus, type RuntimeEventInput } from '@baton/agent-runtime';
import { KafkaEventAdapter, type KafkaConfig } from '@baton/kafka';
import { OpenTelemetryAdapter, type OTelConfig } from '@baton/otel';
import { printTable, rssMb } from './harness.js';

type SdkTrace = {
  TracerProvider: new (options: { spanProcessors: unknown[] }) => NonNullable<OTelConfig['tracerProvider']> & { shutdown(): Promise<void> };
  SimpleSpanProcessor: new (options: { exporter: unknown }) => unknown;
  InMemorySpanExporter: new () => { getFinishedSpans(): unknown[]; reset(): void };
};
type SdkMetrics = {
  MeterProvider: new (options: { readers: unknown[] }) => NonNullable<OTelConfig['meterProvider']> & { shutdown(): Promise<void> };
  MetricReader: abstract new () => { collect(): Promise<unknown> };
};

const fromOtel = createRequire(new URL('../../packages/otel/package.json', import.meta.url));
const load = async <T>(name: string): Promise<T> => (await import(pathToFileURL(fromOtel.resolve(name)).href)) as T;

/** The events of one agent job: a model call that asks for a tool, the tool, a second model call. */
function jobEvents(jobId: string, traceId: string): RuntimeEventInput[] {
  const base = { jobId, scopeId: 'bench', traceId };
  const usage = { inputTokens: 120, outputTokens: 40, totalTokens: 160 };
  return [
    { ...base, type: 'job.created', data: { status: 'queued', priority: 'normal', principalId: 'p' } },
    { ...base, type: 'job.started', data: { from: 'queued', attempt: 1 } },
    { ...base, type: 'model.started', data: { model: 'gpt-4o', stepKey: `${jobId}:0.0` } },
    { ...base, type: 'model.delta', data: { model: 'gpt-4o', stepKey: `${jobId}:0.0`, textDelta: 'Looking it up.' } },
    { ...base, type: 'model.completed', data: { model: 'gpt-4o', provider: 'openai', stepKey: `${jobId}:0.0`, usage, finishReason: 'tool-calls', durationMs: 800 } },
    { ...base, type: 'step.completed', data: { seq: 1, key: `${jobId}:0.0`, kind: 'model', name: 'gpt-4o', durationMs: 800 } },
    { ...base, type: 'tool.started', data: { toolName: 'weather', toolCallId: 'call_1', stepKey: `${jobId}:0.1` } },
    { ...base, type: 'tool.completed', data: { toolName: 'weather', toolCallId: 'call_1', stepKey: `${jobId}:0.1`, durationMs: 12 } },
    { ...base, type: 'model.started', data: { model: 'gpt-4o', stepKey: `${jobId}:0.2` } },
    { ...base, type: 'model.completed', data: { model: 'gpt-4o', provider: 'openai', stepKey: `${jobId}:0.2`, usage, finishReason: 'stop', durationMs: 600 } },
    { ...base, type: 'checkpoint.saved', data: { seq: 3, key: `${jobId}:0.2` } },
    { ...base, type: 'job.completed', data: { from: 'running', result: { text: 'Sunny.' } } },
  ] as RuntimeEventInput[];
}

function allEvents(jobs: number): RuntimeEventInput[] {
  const out: RuntimeEventInput[] = [];
  for (let j = 0; j < jobs; j++) out.push(...jobEvents(`job-${j}`, (j + 1).toString(16).padStart(32, '0')));
  return out;
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}

async function otelRow(name: string, events: readonly RuntimeEventInput[], samplingRate: number, sdk: { trace: SdkTrace; metrics: SdkMetrics }): Promise<Record<string, string | number>> {
  const exporter = new sdk.trace.InMemorySpanExporter();
  const tracerProvider = new sdk.trace.TracerProvider({ spanProcessors: [new sdk.trace.SimpleSpanProcessor({ exporter })] });
  class Reader extends sdk.metrics.MetricReader {
    protected async onForceFlush(): Promise<void> {}
    protected async onShutdown(): Promise<void> {}
  }
  const reader = new Reader();
  const meterProvider = new sdk.metrics.MeterProvider({ readers: [reader] });
  const bus = new InMemoryEventBus({ maxEventsPerJob: 20, finishedJobTtlMs: 0 });
  const adapter = new OpenTelemetryAdapter(bus, { tracerProvider, meterProvider, samplingRate, maxQueue: events.length });
  const t0 = process.hrtime.bigint();
  for (const e of events) void bus.publish(e);
  await until(() => adapter.stats.events >= events.length);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await reader.collect();
  const spans = exporter.getFinishedSpans().length;
  await adapter.close();
  await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
  return { case: name, events: events.length, spans, 'seconds': seconds.toFixed(3), 'events/s': Math.round(events.length / seconds), 'µs/event': ((seconds * 1e6) / events.length).toFixed(2) };
}

function recordingProducer(roundTripMs: number): NonNullable<KafkaConfig['producer']> & { messages: number; calls: number } {
  const producer = {
    messages: 0,
    calls: 0,
    async sendBatch(batch: Parameters<NonNullable<KafkaConfig['producer']>['sendBatch']>[0]) {
      producer.calls++;
      if (roundTripMs > 0) await new Promise((resolve) => setTimeout(resolve, roundTripMs));
      for (const t of batch.topicMessages ?? []) producer.messages += t.messages.length;
      return [];
    },
  };
  return producer;
}

async function kafkaRow(name: string, events: readonly RuntimeEventInput[], options: { batchSize: number; maxInFlightBatches: number; roundTripMs: number }): Promise<Record<string, string | number>> {
  const producer = recordingProducer(options.roundTripMs);
  const bus = new InMemoryEventBus({ maxEventsPerJob: 20, finishedJobTtlMs: 0 });
  const adapter = new KafkaEventAdapter(bus, { producer, batchSize: options.batchSize, maxInFlightBatches: options.maxInFlightBatches, maxBuffered: events.length });
  const t0 = process.hrtime.bigint();
  for (const e of events) void bus.publish(e);
  await adapter.flush();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await adapter.close();
  const { written, dropped } = adapter.stats;
  return { case: name, events: events.length, written, dropped, sendBatch: producer.calls, 'seconds': seconds.toFixed(3), 'events/s': Math.round(written / seconds) };
}

const sdk = { trace: await load<SdkTrace>('@opentelemetry/sdk-trace'), metrics: await load<SdkMetrics>('@opentelemetry/sdk-metrics') };
const events = allEvents(5_000); // 60,000 events
await otelRow('warm-up', allEvents(500), 1, sdk);
printTable('Events through OpenTelemetryAdapter (InMemoryEventBus → spans + metrics, SDK in-memory exporter)', [
  await otelRow('every job traced', events, 1, sdk),
  await otelRow('10 % of jobs traced (samplingRate 0.1)', events, 0.1, sdk),
  await otelRow('metrics only (samplingRate 0)', events, 0, sdk),
]);

await kafkaRow('warm-up', allEvents(500), { batchSize: 500, maxInFlightBatches: 4, roundTripMs: 0 });
printTable('Events through KafkaEventAdapter (InMemoryEventBus → sendBatch of a recording producer)', [
  await kafkaRow('500 per batch, 4 in flight, no latency', events, { batchSize: 500, maxInFlightBatches: 4, roundTripMs: 0 }),
  await kafkaRow('500 per batch, 4 in flight, 2 ms round trip', events, { batchSize: 500, maxInFlightBatches: 4, roundTripMs: 2 }),
  await kafkaRow('100 per batch, 1 in flight, 2 ms round trip', events, { batchSize: 100, maxInFlightBatches: 1, roundTripMs: 2 }),
  await kafkaRow('1 per batch, 4 in flight, 2 ms round trip', events.slice(0, 2_000), { batchSize: 1, maxInFlightBatches: 4, roundTripMs: 2 }),
]);
console.log(`\nRSS ${rssMb()} MB`);
