import { InMemoryActionStore, InMemoryEventBus, InMemoryJobStore, InMemoryJournalStore, InMemorySignalChannel, PolicyEngine, RuntimeKernel, type RuntimeStores } from '@baton/agent-runtime';
import { Agent, ExecutionEngine, ScriptedProvider, defineTool, type ModelRequest, type ScriptStep } from '@baton/llm-client';
import { SpanKind } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OpenTelemetryAdapter } from './opentelemetry-adapter.js';
import { delivered, parentId, sdk, spanId, traceId } from './test-helpers/telemetry.js';

const scope = { scopeId: 'tenant-a', principalId: 'alice' };
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function stores(): RuntimeStores {
  return { jobs: new InMemoryJobStore(), journal: new InMemoryJournalStore(), events: new InMemoryEventBus(), actions: new InMemoryActionStore(), signals: new InMemorySignalChannel() };
}

/** A model that looks the weather up once, then answers with what the tool said. */
function weatherModel(): ScriptedProvider {
  return new ScriptedProvider({
    script: (request: ModelRequest): ScriptStep => {
      const last = request.messages[request.messages.length - 1];
      if (last?.role === 'tool') return `It is ${last.content}.`;
      return { text: 'Looking it up.', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }] };
    },
  });
}

const weather = defineTool({
  name: 'weather',
  description: 'Current weather of a city',
  parameters: z.object({ city: z.string() }),
  execute: ({ city }) => `sunny in ${city}`,
});

function kernel(s: RuntimeStores, options: { policy?: PolicyEngine; tokens?: string[] } = {}) {
  const engine = new ExecutionEngine({ provider: weatherModel() });
  const agent = new Agent({ engine, tools: [weather], instructions: 'You answer weather questions.' });
  const k = RuntimeKernel.create({ engine, agent, stores: s, policy: options.policy, onActionRequired: ({ resumeToken }) => options.tokens?.push(resumeToken) });
  closers.push(() => k.close());
  return k;
}

function observe(s: RuntimeStores) {
  const t = sdk();
  const adapter = new OpenTelemetryAdapter(s.events, { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider, _internal: { sweepIntervalMs: 0 } });
  closers.push(() => adapter.close());
  return { t, adapter };
}

describe('a real RuntimeKernel run, traced', () => {
  it('an agent that calls a tool: agent.job ⊃ agent.run ⊃ two agent.model and one agent.tool, in the request trace', async () => {
    const s = stores();
    const { t, adapter } = observe(s);
    const trace = '0af7651916cd43dd8448eb211c80319c';
    const handle = await kernel(s).execute({ ...scope, input: 'Weather in Paris?', traceId: trace, sessionId: 'chat-1' });
    const result = await handle.result();
    expect(result.output).toMatchObject({ text: 'It is sunny in Paris.' });
    await delivered();

    expect(t.spans().map((x) => x.name).sort()).toEqual(['agent.job', 'agent.model', 'agent.model', 'agent.run', 'agent.tool']);
    const [job] = t.named('agent.job');
    const [run] = t.named('agent.run');
    const models = t.named('agent.model');
    const [tool] = t.named('agent.tool');
    for (const span of t.spans()) expect(traceId(span)).toBe(trace);
    expect(parentId(run!)).toBe(spanId(job!));
    for (const child of [...models, tool!]) expect(parentId(child)).toBe(spanId(run!));

    expect(job!.attributes).toMatchObject({ 'baton.job.id': handle.jobId, 'baton.scope.id': 'tenant-a', 'gen_ai.conversation.id': 'chat-1', 'baton.job.status': 'completed' });
    expect(models[0]!.kind).toBe(SpanKind.CLIENT);
    expect(models[0]!.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'scripted', 'gen_ai.system': 'scripted', 'gen_ai.response.finish_reasons': ['tool_call'] });
    expect(models[0]!.attributes['gen_ai.request.model']).toEqual(expect.any(String));
    expect(models[0]!.attributes['gen_ai.usage.input_tokens']).toEqual(expect.any(Number));
    expect(models[1]!.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    expect(tool!.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'weather', 'gen_ai.tool.call.id': expect.any(String) });
    // The tool ran between the two model calls.
    const order = [models[0]!, tool!, models[1]!].map((x) => x.startTime[0] * 1e9 + x.startTime[1]);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    expect(await t.total('baton.job.started')).toBe(1);
    expect(await t.total('baton.job.completed')).toBe(1);
    expect(await t.total('gen_ai.client.operation.duration')).toBe(2);
    expect(await t.total('gen_ai.execute_tool.duration', { 'gen_ai.tool.name': 'weather' })).toBe(1);
    expect(await t.total('baton.model.tokens')).toBeGreaterThan(0);
    expect(adapter.stats).toMatchObject({ openJobs: 0, openSpans: 0, errors: 0 });
  });

  it('a tool that needs approval: the job pauses and resumes on another kernel; two runs and an agent.action', async () => {
    const s = stores();
    const { t } = observe(s);
    const policy = new PolicyEngine({ defaultSet: 'default', sets: [{ name: 'default', tools: [{ name: 'approve-weather', tools: ['weather'], requireApproval: true }] }] });
    const tokens: string[] = [];
    const handle = await kernel(s, { policy, tokens }).execute({ ...scope, input: 'Weather in Paris?' });
    expect((await handle.settled()).status).toBe('waiting_for_action');
    const { handle: resumed } = await kernel(s, { policy }).resume(tokens[0]!, { approved: true }, { scopeId: 'tenant-a', principalId: 'bob' });
    await resumed!.result();
    await delivered();

    const [job] = t.named('agent.job');
    const runs = t.named('agent.run');
    const [action] = t.named('agent.action');
    expect(runs.map((r) => r.attributes['baton.run.outcome'])).toEqual(['waiting', 'completed']);
    expect(parentId(action!)).toBe(spanId(runs[0]!));
    expect(action!.attributes).toMatchObject({ 'baton.action.type': 'approval', 'baton.action.outcome': expect.any(String) });
    expect(t.named('agent.tool')).toHaveLength(1);
    expect(parentId(t.named('agent.tool')[0]!)).toBe(spanId(runs[1]!));
    expect(job!.attributes['baton.job.status']).toBe('completed');
    expect(runs[0]!.events.map((e) => e.name)).toContain('baton.policy.decision');
    expect(await t.total('baton.action.duration', { 'baton.action.type': 'approval' })).toBe(1);
  });
});
