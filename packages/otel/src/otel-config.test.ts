import { InMemoryEventBus } from '@baton/agent-runtime';
import { InvalidArgumentError } from '@baton/llm-client';
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenTelemetryAdapter } from './opentelemetry-adapter.js';
import type { OTelConfig } from './otel-config.js';
import { delivered, jobEvents, sdk } from './test-helpers/telemetry.js';

afterEach(() => {
  trace.disable();
});

describe('OTelConfig', () => {
  it.each<[string, OTelConfig]>([
    ['samplingRate', { samplingRate: 1.5 }],
    ['samplingRate', { samplingRate: Number.NaN }],
    ['maxOpenJobs', { maxOpenJobs: 0 }],
    ['openSpanTtlMs', { openSpanTtlMs: 1.5 }],
    ['maxOpenSpansPerJob', { maxOpenSpansPerJob: -1 }],
    ['maxContentLength', { maxContentLength: 0 }],
    ['captureInput', { captureInput: 'yes' as unknown as boolean }],
    ['recordExceptions', { recordExceptions: 1 as unknown as boolean }],
    ['tracerProvider', { tracerProvider: {} as never }],
    ['prices', { prices: {} as never }],
    ['contentSource', { contentSource: 'x' as never }],
    ['onError', { onError: 1 as never }],
  ])('rejects a bad %s with InvalidArgumentError', (argument, config) => {
    const bus = new InMemoryEventBus();
    expect(() => new OpenTelemetryAdapter(bus, config)).toThrow(InvalidArgumentError);
    expect(() => new OpenTelemetryAdapter(bus, config)).toThrow(expect.objectContaining({ argument }));
  });

  it('needs an event bus', () => {
    expect(() => new OpenTelemetryAdapter(undefined as never)).toThrow(InvalidArgumentError);
  });

  it('without a tracerProvider, takes the global one at construction', async () => {
    const t = sdk();
    const bus = new InMemoryEventBus();
    trace.setGlobalTracerProvider(t.tracerProvider);
    const adapter = new OpenTelemetryAdapter(bus, { _internal: { sweepIntervalMs: 0 } });
    trace.disable(); // later changes of the global do not matter
    const emit = jobEvents(bus, { jobId: 'j' });
    await emit('job.started', { from: 'queued', attempt: 1 });
    await emit('job.completed', { from: 'running' });
    await delivered();
    await adapter.close();
    expect(t.spans().map((s) => s.name)).toEqual(['agent.run', 'agent.job']);
  });

  it('a tracer that throws is reported to onError and the adapter keeps going', async () => {
    const bus = new InMemoryEventBus();
    const errors: unknown[] = [];
    const t = sdk();
    const flaky = {
      getTracer: (name: string, version?: string) => {
        const real = t.tracerProvider.getTracer(name, version);
        return {
          startSpan: (...args: Parameters<typeof real.startSpan>) => {
            if (args[1]?.attributes?.['baton.job.id'] === 'bad') throw new Error('exporter misconfigured');
            return real.startSpan(...args);
          },
          startActiveSpan: real.startActiveSpan.bind(real),
        } as typeof real;
      },
    };
    const adapter = new OpenTelemetryAdapter(bus, { tracerProvider: flaky, onError: (e) => errors.push(e), _internal: { sweepIntervalMs: 0 } });
    for (const jobId of ['bad', 'good']) {
      const emit = jobEvents(bus, { jobId });
      await emit('job.started', { from: 'queued', attempt: 1 });
      await emit('job.completed', { from: 'running' });
    }
    await delivered();
    await adapter.close();
    expect(errors).toEqual([new Error('exporter misconfigured')]);
    expect(adapter.stats).toMatchObject({ errors: 1, openJobs: 0 });
    expect(t.named('agent.job').map((s) => s.attributes['baton.job.id'])).toEqual(['good']);
  });
});
