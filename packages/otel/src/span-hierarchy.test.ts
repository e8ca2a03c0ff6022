import { InMemoryEventBus } from '@baton/agent-runtime';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenTelemetryAdapter } from './opentelemetry-adapter.js';
import { delivered, jobEvents, ms, parentId, sdk, spanId } from './test-helpers/telemetry.js';

const adapters: OpenTelemetryAdapter[] = [];
function setup(config: Partial<ConstructorParameters<typeof OpenTelemetryAdapter>[1]> = {}) {
  const bus = new InMemoryEventBus();
  const t = sdk();
  const adapter = new OpenTelemetryAdapter(bus, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider, _internal: { sweepIntervalMs: 0 }, ...config });
  adapters.push(adapter);
  return { bus, t, adapter };
}
afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
});

describe('spans from events: job ⊃ run ⊃ model / tool / action', () => {
  it('nests the spans, takes their times from the events, and names them with the GenAI conventions', async () => {
    const { bus, t } = setup();
    const emit = jobEvents(bus, { jobId: 'job-1', sessionId: 'chat-7' }, 1_700_000_000_000);
    await emit('job.created', { status: 'queued', priority: 'normal', principalId: 'alice' });
    await emit('job.started', { from: 'queued', attempt: 1 });
    await emit('model.started', { model: 'gpt-4o', stepKey: 'job-1:0.0' });
    await emit('model.completed', { model: 'gpt-4o-2024-08-06', provider: 'openai', stepKey: 'job-1:0.0', usage: { inputTokens: 120, outputTokens: 30, totalTokens: 150 }, finishReason: 'tool-calls', durationMs: 10 });
    await emit('tool.started', { toolName: 'deploy', toolCallId: 'call_1', stepKey: 'job-1:0.1' });
    await emit('tool.completed', { toolName: 'deploy', toolCallId: 'call_1', stepKey: 'job-1:0.1', durationMs: 10 });
    await emit('job.completed', { from: 'running', result: { text: 'done' } });
    await delivered();

    const [job] = t.named('agent.job');
    const [run] = t.named('agent.run');
    const [model] = t.named('agent.model');
    const [tool] = t.named('agent.tool');
    expect(t.spans()).toHaveLength(4);
    expect(parentId(job!)).toBeUndefined();
    expect(parentId(run!)).toBe(spanId(job!));
    expect(parentId(model!)).toBe(spanId(run!));
    expect(parentId(tool!)).toBe(spanId(run!));

    expect(ms(job!.startTime)).toBe(1_700_000_000_010); // job.created
    expect(ms(run!.startTime)).toBe(1_700_000_000_020); // job.started
    expect(ms(model!.startTime)).toBe(1_700_000_000_030);
    expect(ms(model!.endTime)).toBe(1_700_000_000_040);
    expect(ms(job!.endTime)).toBe(1_700_000_000_070);

    expect(job!.attributes).toMatchObject({ 'baton.job.id': 'job-1', 'baton.scope.id': 'acme', 'gen_ai.conversation.id': 'chat-7', 'baton.job.status': 'completed', 'baton.job.attempt': 1 });
    expect(run!.attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_agent', 'baton.run.outcome': 'completed' });
    expect(model!.kind).toBe(SpanKind.CLIENT);
    expect(model!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 30,
      'gen_ai.response.finish_reasons': ['tool_call'],
      'baton.step.key': 'job-1:0.0',
    });
    expect(tool!.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'deploy', 'gen_ai.tool.call.id': 'call_1' });
    for (const span of t.spans()) expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a pause for a person: two runs under one job, the action span from required to resolved across them', async () => {
    const { bus, t } = setup();
    const emit = jobEvents(bus, { jobId: 'job-2' });
    await emit('job.started', { from: 'queued', attempt: 1 });
    await emit('action.required', { actionId: 'act-1', actionType: 'approval', stepKey: 'job-2:0.1.approval', details: { title: 'Deploy 1.2.3?' } });
    await emit('job.waiting', { from: 'running', actionId: 'act-1' });
    await emit('action.resolved', { actionId: 'act-1', actionType: 'approval', resolvedBy: 'bob', outcome: 'approved' });
    await emit('job.resumed', { from: 'waiting_for_action', actionId: 'act-1' });
    await emit('job.completed', { from: 'running' });
    await delivered();

    const [job] = t.named('agent.job');
    const runs = t.named('agent.run');
    const [action] = t.named('agent.action');
    expect(runs).toHaveLength(2);
    expect(runs.map((r) => r.attributes['baton.run.outcome'])).toEqual(['waiting', 'completed']);
    expect(runs.every((r) => parentId(r) === spanId(job!))).toBe(true);
    expect(parentId(action!)).toBe(spanId(runs[0]!));
    expect(action!.attributes).toMatchObject({ 'baton.action.id': 'act-1', 'baton.action.type': 'approval', 'baton.action.outcome': 'approved' });
    expect(action!.attributes['baton.action.details']).toBeUndefined(); // PII: off by default
    expect(ms(action!.endTime)).toBeGreaterThan(ms(runs[0]!.endTime));
    expect(runs[1]!.attributes['baton.run.resumed']).toBe(true);
  });

  it('failures: status ERROR, error.type and an exception event; none with recordExceptions off', async () => {
    for (const recordExceptions of [true, false]) {
      const { bus, t } = setup({ recordExceptions });
      const emit = jobEvents(bus, { jobId: `job-fail-${recordExceptions}` });
      await emit('job.started', { from: 'queued', attempt: 1 });
      await emit('tool.started', { toolName: 'charge', stepKey: 'k:0.1' });
      await emit('tool.failed', { toolName: 'charge', stepKey: 'k:0.1', error: { code: 'tool_execution_failed', message: 'card declined', retryable: false, name: 'ToolExecutionError' } });
      await emit('model.started', { model: 'claude-sonnet-4', stepKey: 'k:0.2' });
      await emit('model.failed', { model: 'claude-sonnet-4', provider: 'anthropic', stepKey: 'k:0.2', error: { code: 'rate_limited', message: '429', retryable: true } });
      await emit('job.failed', { from: 'running', error: { code: 'rate_limited', message: '429', retryable: true } });
      await delivered();

      for (const name of ['agent.tool', 'agent.model', 'agent.run', 'agent.job']) {
        const [span] = t.named(name);
        expect(span!.status.code, name).toBe(SpanStatusCode.ERROR);
        expect(span!.events.filter((e) => e.name === 'exception'), name).toHaveLength(recordExceptions ? 1 : 0);
      }
      const [tool] = t.named('agent.tool');
      expect(tool!.attributes['error.type']).toBe('tool_execution_failed');
      expect(tool!.status.message).toBe('card declined');
      if (recordExceptions) expect(tool!.events[0]!.attributes).toMatchObject({ 'exception.type': 'ToolExecutionError', 'exception.message': 'card declined' });
      expect(t.named('agent.job')[0]!.attributes).toMatchObject({ 'baton.job.status': 'failed', 'error.type': 'rate_limited' });
      expect(t.named('agent.model')[0]!.attributes['gen_ai.provider.name']).toBe('anthropic');
    }
  });

  it('custom steps get agent.step spans; policy and budget decisions become events on the run', async () => {
    const { bus, t } = setup();
    const emit = jobEvents(bus, { jobId: 'job-3' });
    await emit('job.started', { from: 'queued', attempt: 1 });
    await emit('step.started', { seq: 0, key: 'job-3:0', kind: 'custom', name: 'fetch-invoice' });
    await emit('step.completed', { seq: 1, key: 'job-3:0', kind: 'custom', name: 'fetch-invoice', durationMs: 10 });
    await emit('step.started', { seq: 0, key: 'job-3:1', kind: 'custom', name: 'post' });
    await emit('step.failed', { seq: 0, key: 'job-3:1', kind: 'custom', name: 'post', durationMs: 10, error: { code: 'error', message: 'boom', retryable: false } });
    await emit('policy.decision', { subject: 'tool', name: 'refund', decision: 'deny', rule: 'no-refunds' });
    await emit('budget.warning', { dimension: 'tokens', used: 900, limit: 1000, level: 'scope' });
    await emit('job.cancelled', { from: 'running', reason: 'user' });
    await delivered();

    const steps = t.named('agent.step');
    expect(steps.map((s) => [s.attributes['baton.step.name'], s.status.code])).toEqual([
      ['fetch-invoice', SpanStatusCode.UNSET],
      ['post', SpanStatusCode.ERROR],
    ]);
    const [run] = t.named('agent.run');
    expect(run!.events.map((e) => e.name)).toEqual(['baton.policy.decision', 'baton.budget.warning']);
    expect(run!.events[0]!.attributes).toMatchObject({ 'baton.policy.decision': 'deny', 'baton.policy.rule': 'no-refunds' });
    expect(t.named('agent.job')[0]!.attributes).toMatchObject({ 'baton.job.status': 'cancelled', 'baton.job.reason': 'user' });
  });

  it('a retried job: a run per attempt; a run whose end was missed is ended when the next starts', async () => {
    const { bus, t } = setup();
    const emit = jobEvents(bus, { jobId: 'job-4' });
    await emit('job.started', { from: 'queued', attempt: 1 });
    await emit('model.started', { model: 'm', stepKey: 'job-4:0' });
    await emit('job.requeued', { from: 'running', reason: 'lease lost' });
    await emit('job.started', { from: 'queued', attempt: 2 });
    await emit('job.started', { from: 'queued', attempt: 3 });
    await emit('job.completed', { from: 'running' });
    await delivered();

    const runs = t.named('agent.run');
    expect(runs.map((r) => [r.attributes['baton.job.attempt'], r.attributes['baton.run.outcome'] ?? r.attributes['baton.span.ended_by']])).toEqual([
      [1, 'requeued'],
      [2, 'superseded'],
      [3, 'completed'],
    ]);
    expect(t.named('agent.model')[0]!.attributes['baton.span.ended_by']).toBe('run_ended');
    expect(t.named('agent.job')[0]!.attributes['baton.job.attempt']).toBe(3);
  });

  it('events of a job the adapter saw nothing of yet open its job and run spans (a consumer joining mid-job)', async () => {
    const { bus, t } = setup();
    const emit = jobEvents(bus, { jobId: 'job-5' });
    await emit('tool.started', { toolName: 'search', stepKey: 'job-5:3' });
    await emit('tool.completed', { toolName: 'search', stepKey: 'job-5:3' });
    await emit('job.completed', { from: 'running' });
    await delivered();
    const [job] = t.named('agent.job');
    const [tool] = t.named('agent.tool');
    expect(parentId(tool!)).toBe(spanId(job!));
    // A terminal event for a job it holds nothing of creates no span.
    await jobEvents(bus, { jobId: 'job-6' })('job.completed', { from: 'running' });
    await delivered();
    expect(t.spans().filter((s) => s.attributes['baton.job.id'] === 'job-6')).toEqual([]);
  });
});
