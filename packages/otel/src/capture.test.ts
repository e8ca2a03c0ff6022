import { InMemoryEventBus } from '@baton/agent-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenTelemetryAdapter } from './opentelemetry-adapter.js';
import type { OTelConfig } from './otel-config.js';
import { delivered, jobEvents, sdk } from './test-helpers/telemetry.js';

const adapters: OpenTelemetryAdapter[] = [];
afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
});

/** A job with a streamed model call, a tool call and an approval, under `config`. */
async function run(config: OTelConfig) {
  const bus = new InMemoryEventBus();
  const t = sdk();
  adapters.push(new OpenTelemetryAdapter(bus, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider, _internal: { sweepIntervalMs: 0 }, ...config }));
  const emit = jobEvents(bus, { jobId: 'job-1' });
  await emit('job.started', { from: 'queued', attempt: 1 });
  await emit('model.started', { model: 'gpt-4o', stepKey: 'job-1:0.0' });
  await emit('model.delta', { model: 'gpt-4o', stepKey: 'job-1:0.0', textDelta: 'Refunding ' });
  await emit('model.delta', { model: 'gpt-4o', stepKey: 'job-1:0.0', textDelta: 'Ada Lovelace.' });
  await emit('model.completed', { model: 'gpt-4o', provider: 'openai', stepKey: 'job-1:0.0', finishReason: 'stop' });
  await emit('action.required', { actionId: 'act-1', actionType: 'approval', details: { title: 'Refund Ada Lovelace 12 EUR?' } });
  await emit('action.resolved', { actionId: 'act-1', outcome: 'approved', details: { comment: 'ok, Ada is a regular' } });
  await emit('tool.started', { toolName: 'refund', toolCallId: 'call_1', stepKey: 'job-1:0.1' });
  await emit('tool.completed', { toolName: 'refund', toolCallId: 'call_1', stepKey: 'job-1:0.1' });
  await emit('job.completed', { from: 'running', result: { text: 'Refunded Ada Lovelace.' } });
  await delivered();
  const attrs = (name: string) => t.named(name)[0]!.attributes;
  return { job: attrs('agent.job'), model: attrs('agent.model'), tool: attrs('agent.tool'), action: attrs('agent.action') };
}

const CONTENT_KEYS = ['baton.job.input', 'baton.job.output', 'gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result', 'baton.action.details'];

describe('content capture (personal data): off by default', () => {
  it('records no content unless asked, even with a content source', async () => {
    const spans = await run({ contentSource: () => ({ input: 'secret prompt', output: 'secret answer', toolArgs: { card: '4111' } }) });
    for (const attributes of Object.values(spans)) {
      for (const key of CONTENT_KEYS) expect(attributes[key], key).toBeUndefined();
      expect(JSON.stringify(attributes)).not.toMatch(/Ada|secret|4111/);
    }
  });

  it('captureOutput: the job result and the streamed text (gen_ai.output.messages)', async () => {
    const { job, model, tool } = await run({ captureOutput: true });
    expect(JSON.parse(String(job['baton.job.output']))).toEqual({ text: 'Refunded Ada Lovelace.' });
    expect(JSON.parse(String(model['gen_ai.output.messages']))).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Refunding Ada Lovelace.' }], finish_reason: 'stop' }]);
    expect(tool['gen_ai.tool.call.arguments']).toBeUndefined();
  });

  it('captureInput: what a person was asked and answered', async () => {
    const { action, job } = await run({ captureInput: true });
    expect(action['baton.action.details']).toBe('{"comment":"ok, Ada is a regular"}'); // the answer, set last
    expect(job['baton.job.output']).toBeUndefined();
  });

  it('contentSource supplies what events do not carry, each field only under its own flag', async () => {
    const seen: string[] = [];
    const contentSource: OTelConfig['contentSource'] = (event) => {
      seen.push(event.type);
      if (event.type === 'tool.started') return { toolArgs: { amount: 12, currency: 'EUR' } };
      if (event.type === 'tool.completed') return { output: 'refund r_1' };
      if (event.type === 'model.started') return { input: [{ role: 'user', parts: [{ type: 'text', content: 'refund' }] }] };
      if (event.type === 'job.started') return { input: 'Refund Ada' };
      return undefined;
    };
    const { tool, model, job } = await run({ captureToolArgs: true, contentSource });
    expect(tool['gen_ai.tool.call.arguments']).toBe('{"amount":12,"currency":"EUR"}');
    expect(tool['gen_ai.tool.call.result']).toBeUndefined();
    expect(model['gen_ai.input.messages']).toBeUndefined();
    expect(job['baton.job.input']).toBeUndefined();
    expect(seen).toEqual(['tool.started']);

    const all = await run({ captureInput: true, captureOutput: true, captureToolArgs: true, contentSource });
    expect(all.tool['gen_ai.tool.call.result']).toBe('refund r_1');
    expect(JSON.parse(String(all.model['gen_ai.input.messages']))).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'refund' }] }]);
    expect(all.job['baton.job.input']).toBe('Refund Ada');
  });

  it('cuts captured values to maxContentLength; a throwing content source is reported, not fatal', async () => {
    const errors: unknown[] = [];
    const { job, tool } = await run({
      captureOutput: true,
      captureToolArgs: true,
      maxContentLength: 12,
      contentSource: (event) => {
        if (event.type === 'tool.started') throw new Error('source down');
        return undefined;
      },
      onError: (error) => errors.push(error),
    });
    expect(job['baton.job.output']).toBe('{"text":"Ref');
    expect(tool['gen_ai.tool.name']).toBe('refund');
    expect(errors).toEqual([new Error('source down')]);
  });
});
