import { InMemoryEventBus } from '@baton/agent-runtime';
import { PriceTable } from '@baton/llm-client';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenTelemetryAdapter } from './opentelemetry-adapter.js';
import { delivered, jobEvents, sdk } from './test-helpers/telemetry.js';

const adapters: OpenTelemetryAdapter[] = [];
afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
});

function setup(prices?: PriceTable) {
  const bus = new InMemoryEventBus();
  const t = sdk();
  adapters.push(new OpenTelemetryAdapter(bus, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider, prices, _internal: { sweepIntervalMs: 0 } }));
  return { bus, t };
}

const error = (code: string) => ({ code, message: code, retryable: true });

describe('metrics', () => {
  it('job counters: started (and retries), completed, failed by error type, cancelled and interrupted', async () => {
    const { bus, t } = setup();
    const a = jobEvents(bus, { jobId: 'a' });
    await a('job.started', { from: 'queued', attempt: 1 });
    await a('job.requeued', { from: 'running' });
    await a('job.started', { from: 'queued', attempt: 2 });
    await a('job.completed', { from: 'running' });
    const b = jobEvents(bus, { jobId: 'b' });
    await b('job.started', { from: 'queued', attempt: 1 });
    await b('job.failed', { from: 'running', error: error('timeout') });
    await jobEvents(bus, { jobId: 'c' })('job.dead_lettered', { from: 'queued', reason: 'poison', claims: 5 });
    await jobEvents(bus, { jobId: 'd' })('job.cancelled', { from: 'running' });
    await jobEvents(bus, { jobId: 'e' })('job.interrupted', { from: 'running', byJobId: 'f' });
    await delivered();

    expect(await t.total('baton.job.started')).toBe(3);
    expect(await t.total('baton.job.retries')).toBe(1);
    expect(await t.total('baton.job.completed')).toBe(1);
    expect(await t.total('baton.job.failed', { 'error.type': 'timeout', 'baton.job.status': 'failed' })).toBe(1);
    expect(await t.total('baton.job.failed', { 'baton.job.status': 'dead_lettered' })).toBe(1);
    expect(await t.total('baton.job.cancelled', { 'baton.job.status': 'cancelled' })).toBe(1);
    expect(await t.total('baton.job.cancelled', { 'baton.job.status': 'interrupted' })).toBe(1);
  });

  it('model calls: duration histogram, tokens by model and type, cost from the price table, breaker-open refusals', async () => {
    const { bus, t } = setup(new PriceTable({ 'openai:gpt-4o*': { inputPerMillion: '2.50', outputPerMillion: '10.00' } }));
    const emit = jobEvents(bus, { jobId: 'j' }, 1_700_000_000_000);
    await emit('job.started', { from: 'queued', attempt: 1 });
    await emit('model.started', { model: 'gpt-4o', stepKey: 'j:0' });
    await emit('model.completed', { model: 'gpt-4o-2024-08-06', provider: 'openai', stepKey: 'j:0', usage: { inputTokens: 1000, outputTokens: 200, totalTokens: 1200 }, durationMs: 250 });
    await emit('model.started', { model: 'gpt-4o', stepKey: 'j:1' });
    await emit('model.completed', { model: 'gpt-4o-2024-08-06', provider: 'openai', stepKey: 'j:1', usage: { inputTokens: 3000, outputTokens: 0, totalTokens: 3000 }, durationMs: 750 });
    await emit('model.started', { model: 'local-llm', stepKey: 'j:2' });
    await emit('model.completed', { model: 'local-llm', provider: 'ollama', stepKey: 'j:2', usage: { inputTokens: 5, outputTokens: 5, totalTokens: 10 } });
    await emit('model.started', { model: 'gpt-4o', stepKey: 'j:3' });
    await emit('model.failed', { model: 'gpt-4o', provider: 'openai', stepKey: 'j:3', error: error('circuit_open') }, 1_700_000_000_500);
    await delivered();

    const durations = await t.metric('gen_ai.client.operation.duration');
    const ok = durations.find((p) => p.attributes['gen_ai.response.model'] === 'gpt-4o-2024-08-06')!;
    expect(ok.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' });
    expect(ok.value).toBe(2);
    expect(ok.sum).toBeCloseTo(1.0);
    const failed = durations.find((p) => p.attributes['error.type'] === 'circuit_open')!;
    expect(failed.sum).toBeCloseTo(0.42); // from the model.started event's at to model.failed's
    expect(await t.total('gen_ai.client.operation.duration', { 'gen_ai.provider.name': 'ollama' })).toBe(1); // from the event times

    expect(await t.total('baton.model.tokens', { 'gen_ai.response.model': 'gpt-4o-2024-08-06', 'gen_ai.token.type': 'input' })).toBe(4000);
    expect(await t.total('baton.model.tokens', { 'gen_ai.response.model': 'gpt-4o-2024-08-06', 'gen_ai.token.type': 'output' })).toBe(200);
    expect(await t.total('baton.model.tokens', { 'gen_ai.provider.name': 'ollama' })).toBe(10);
    expect(await t.total('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' })).toBe(3);

    const cost = await t.metric('baton.model.cost');
    expect(cost).toHaveLength(1); // ollama is not in the price table
    expect(cost[0]!.value).toBeCloseTo((4000 * 2.5 + 200 * 10) / 1e6, 9);
    expect(t.named('agent.model')[0]!.attributes['baton.model.cost_usd']).toBe('0.004500000');

    expect(await t.total('baton.model.breaker_open', { 'gen_ai.provider.name': 'openai' })).toBe(1);
  });

  it('tool durations, action waits, policy decisions and budget events', async () => {
    const { bus, t } = setup();
    const emit = jobEvents(bus, { jobId: 'j' }, 1_700_000_000_000);
    await emit('job.started', { from: 'queued', attempt: 1 });
    await emit('tool.started', { toolName: 'search', stepKey: 'j:0' });
    await emit('tool.completed', { toolName: 'search', stepKey: 'j:0', durationMs: 40 });
    await emit('tool.started', { toolName: 'charge', stepKey: 'j:1' }, 1_700_000_001_000);
    await emit('tool.failed', { toolName: 'charge', stepKey: 'j:1', error: error('tool_execution_failed') }, 1_700_000_001_300);
    await emit('action.required', { actionId: 'a1', actionType: 'approval' }, 1_700_000_002_000);
    await emit('action.resolved', { actionId: 'a1', outcome: 'approved' }, 1_700_000_062_000);
    await emit('policy.decision', { subject: 'tool', name: 'charge', decision: 'require_approval' });
    await emit('budget.exceeded', { dimension: 'cost', used: '10.5', limit: '10', level: 'scope' });
    await delivered();

    const tools = await t.metric('gen_ai.execute_tool.duration');
    expect(tools.find((p) => p.attributes['gen_ai.tool.name'] === 'search')!.sum).toBeCloseTo(0.04);
    const charge = tools.find((p) => p.attributes['gen_ai.tool.name'] === 'charge')!;
    expect(charge.attributes['error.type']).toBe('tool_execution_failed');
    expect(charge.sum).toBeCloseTo(0.3);
    const waits = await t.metric('baton.action.duration');
    expect(waits).toEqual([{ attributes: { 'baton.action.type': 'approval', 'baton.action.outcome': 'approved' }, value: 1, sum: 60 }]);
    expect(await t.total('baton.policy.decisions', { 'baton.policy.decision': 'require_approval', 'baton.policy.subject': 'tool' })).toBe(1);
    expect(await t.total('baton.budget.events', { 'baton.budget.dimension': 'cost', 'baton.budget.outcome': 'exceeded' })).toBe(1);
  });
});
