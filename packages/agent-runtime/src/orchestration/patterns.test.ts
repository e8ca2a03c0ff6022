import { ExecutionEngine, ScriptedProvider } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { RuntimeKernel } from '../kernel/runtime-kernel.js';
import type { JsonValue } from '../jobs/json-value.js';
import { agentOperator, fnOperator } from './basic-operators.js';
import { ChainOperator } from './chain-operator.js';
import { DebateOperator, type DebaterInput, type ModeratorInput } from './debate-operator.js';
import { MapReduceOperator } from './map-reduce-operator.js';
import type { Operator } from './operator.js';
import { ParallelOperator } from './parallel-operator.js';
import { PlannerExecutorOperator, parsePlan, type PlannedStepInput, type SynthesisInput } from './planner-executor-operator.js';
import { Router, modelClassifier } from './router.js';
import { operatorWorkflow } from './run-operator.js';
import { scope, scriptedAgent, stores } from './orchestration.test.helpers.js';

async function runOn(operator: Operator<any, any>, input: JsonValue, engine?: ExecutionEngine) {
  const s = stores();
  const kernel = RuntimeKernel.create({ stores: s, ...(engine ? { engine } : {}), workflows: { op: operatorWorkflow(operator) } });
  const handle = await kernel.execute({ ...scope, workflow: 'op', input });
  const result = await handle.result();
  const journal = await s.journal.list({ jobId: handle.jobId, scopeId: scope.scopeId });
  return { output: result.output as { output: any; usage?: { totalTokens: number }; metadata?: Record<string, unknown> }, journal, kernel };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ChainOperator', () => {
  it('passes each stage output to the next, journaling every agent call under its stage', async () => {
    const writer = scriptedAgent('writer', (m) => `draft about ${m}`);
    const reviewer = scriptedAgent('reviewer', (m) => `reviewed: ${m}`);
    const chain = new ChainOperator({ name: 'write-review', operators: [agentOperator(writer.agent), fnOperator('shout', (s: string) => s.toUpperCase()), agentOperator(reviewer.agent)] });
    const { output, journal } = await runOn(chain, 'tides');
    expect(output.output).toBe('reviewed: DRAFT ABOUT TIDES');
    expect(output.usage?.totalTokens).toBeGreaterThan(0);
    expect(journal.map((e) => `${e.stepId}:${e.kind}:${e.name}`)).toEqual([
      '0.0.0.0:model:scripted-1',
      '0.0:custom:operator:writer',
      '0.1:custom:operator:shout',
      '0.2.0.0:model:scripted-1',
      '0.2:custom:operator:reviewer',
      '0:custom:operator:write-review',
    ]);
  });
});

describe('ParallelOperator', () => {
  it('runs branches at most maxParallel at once, keeps ids in declaration order whatever finishes first, aggregates', async () => {
    let running = 0;
    let peak = 0;
    const branch = (name: string, ms: number) =>
      fnOperator(name, async (topic: string) => {
        running++;
        peak = Math.max(peak, running);
        await delay(ms);
        running--;
        return `${name}:${topic}`;
      });
    const parallel = new ParallelOperator({
      name: 'fan',
      operators: [branch('slow', 30), branch('mid', 15), branch('fast', 1)],
      maxParallel: 2,
      aggregate: (outputs) => (outputs as string[]).join(' | '),
    });
    const { output, journal } = await runOn(parallel, 'x');
    expect(output.output).toBe('slow:x | mid:x | fast:x');
    expect(peak).toBe(2);
    const ids = Object.fromEntries(journal.map((e) => [e.name, e.stepId]));
    expect(ids).toMatchObject({ 'operator:slow': '0.0', 'operator:mid': '0.1', 'operator:fast': '0.2' });
    // Finished out of order, looked up by id.
    expect(journal.findIndex((e) => e.name === 'operator:fast')).toBeLessThan(journal.findIndex((e) => e.name === 'operator:slow'));
  });

  it('a failing branch stops its siblings and fails the operator with the branch error', async () => {
    let stoppedEarly = false;
    const parallel = new ParallelOperator({
      name: 'fan',
      operators: [
        fnOperator('boom', async () => {
          await delay(1);
          throw new Error('kaput');
        }),
        fnOperator('long', async (_i, ctx) => {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          stoppedEarly = true;
          return 'never';
        }),
      ],
    });
    const kernel = RuntimeKernel.create({ workflows: { op: operatorWorkflow(parallel) } });
    const handle = await kernel.execute({ ...scope, workflow: 'op', input: null });
    await expect(handle.result()).rejects.toMatchObject({ code: 'job_failed', errorCode: 'operator_failed', message: expect.stringContaining("Operator 'boom'") });
    expect(stoppedEarly).toBe(true);
  });
});

describe('MapReduceOperator', () => {
  it('maps an agent over the items with maxParallel, then reduces with an agent', async () => {
    const summarizer = scriptedAgent('summarizer', (m) => `summary(${m})`);
    const reducer = scriptedAgent('reducer', (m) => `combined ${JSON.parse(m).outputs.length} summaries`);
    const op = new MapReduceOperator({ name: 'summaries', mapper: agentOperator(summarizer.agent), reducer: agentOperator(reducer.agent), maxParallel: 2 });
    const { output } = await runOn(op, ['a', 'b', 'c']);
    expect(output.output).toBe('combined 3 summaries');
    expect(summarizer.provider.calls.map((c) => c.request.messages.at(-1)?.content).sort()).toEqual(['a', 'b', 'c']);
    expect(output.metadata).toEqual({ items: 3 });
  });

  it('rejects an input that is not an array', async () => {
    const op = new MapReduceOperator({ name: 'm', mapper: fnOperator('id', (x) => x) });
    const kernel = RuntimeKernel.create({ workflows: { op: operatorWorkflow(op) } });
    await expect((await kernel.execute({ ...scope, workflow: 'op', input: 'nope' })).result()).rejects.toMatchObject({ errorCode: 'invalid_argument' });
  });
});

describe('PlannerExecutorOperator', () => {
  it('plans with an agent, executes each step in order with the previous results, synthesizes', async () => {
    const planner = scriptedAgent('planner', () => '1. gather sources\n2. draft\n3. proofread');
    const executor = fnOperator('exec', (s: PlannedStepInput) => `done ${s.index}:${String(s.step)} after ${s.previous.length}`);
    const synth = fnOperator('synth', (s: SynthesisInput) => (s.results as string[]).join('; '));
    const op = new PlannerExecutorOperator({ name: 'pe', planner: agentOperator(planner.agent), executor, synthesizer: synth });
    const { output } = await runOn(op, 'write a report');
    expect(output.output).toBe('done 0:gather sources after 0; done 1:draft after 1; done 2:proofread after 2');
    expect(output.metadata).toEqual({ steps: 3 });
  });

  it('parses plans from arrays, { steps }, JSON text and bullet lists', () => {
    expect(parsePlan(['a'])).toEqual(['a']);
    expect(parsePlan({ steps: [1, 2] })).toEqual([1, 2]);
    expect(parsePlan('["x","y"]')).toEqual(['x', 'y']);
    expect(parsePlan('- one\n\n* two\n3) three')).toEqual(['one', 'two', 'three']);
  });
});

describe('DebateOperator', () => {
  it('stops early when the moderator declares consensus', async () => {
    const prompt = (d: DebaterInput) => `round ${d.round} debater ${d.debater}`;
    const a = scriptedAgent('optimist', (m) => (m.startsWith('round 1') ? 'yes' : 'yes, with tests'));
    const b = scriptedAgent('skeptic', (m) => (m.startsWith('round 1') ? 'no' : 'yes, with tests'));
    const moderator = fnOperator('moderator', (m: ModeratorInput) => {
      const [x, y] = m.positions as string[];
      return x === y ? { consensus: true, answer: x } : { consensus: false, summary: `${x} vs ${y}` };
    });
    const op = new DebateOperator({ name: 'ship-it', debaters: [agentOperator(a.agent, { prompt }), agentOperator(b.agent, { prompt })], moderator, maxRounds: 5, debaterInput: (d) => d });
    const { output } = await runOn(op, 'ship on friday?');
    expect(output.output).toMatchObject({ answer: 'yes, with tests', consensus: true, rounds: 2 });
    expect(output.output.transcript[0]).toMatchObject({ round: 1, positions: ['yes', 'no'], verdict: { consensus: false, summary: 'yes vs no' } });
    expect(a.provider.calls).toHaveLength(2);
  });

  it('runs maxRounds without consensus', async () => {
    const op = new DebateOperator({
      name: 'stuck',
      debaters: [fnOperator('a', () => 'a'), fnOperator('b', () => 'b')],
      consensus: (positions) => new Set(positions as string[]).size === 1,
      maxRounds: 2,
    });
    const { output } = await runOn(op, 't');
    expect(output.output).toMatchObject({ consensus: false, rounds: 2 });
  });
});

describe('Router', () => {
  const routes = { billing: fnOperator('billing', (q: string) => `billing handled: ${q}`), tech: fnOperator('tech', (q: string) => `tech handled: ${q}`), human: fnOperator('human', () => 'escalated') };

  it('routes by rule first, then by a model classification, then to the fallback', async () => {
    const provider = new ScriptedProvider({ script: (req) => (String(req.messages.at(-1)?.content).includes('crash') ? 'Tech.' : 'no idea') });
    const engine = new ExecutionEngine({ provider });
    const router = new Router<string>({
      name: 'support',
      routes,
      rules: [{ route: 'billing', when: (q) => q.includes('invoice') }],
      classifier: modelClassifier({ routes: { billing: 'payments', tech: 'bugs and crashes', human: 'anything else' } }),
      fallback: 'human',
    });
    const byRule = await runOn(router, 'where is my invoice', engine);
    expect(byRule.output).toMatchObject({ output: 'billing handled: where is my invoice', metadata: { route: 'billing', via: 'rule' } });
    expect(provider.calls).toHaveLength(0);
    const byModel = await runOn(router, 'the app crashes', engine);
    expect(byModel.output).toMatchObject({ output: 'tech handled: the app crashes', metadata: { route: 'tech', via: 'classifier' } });
    expect(byModel.journal.some((e) => e.kind === 'model' && e.name === 'classify:classifier')).toBe(true);
    const byFallback = await runOn(router, 'hello', engine);
    expect(byFallback.output).toMatchObject({ output: 'escalated', metadata: { route: 'human', via: 'fallback' } });
  });

  it('fails with NoRouteError without a fallback, and rejects unknown route names at construction', async () => {
    const router = new Router({ name: 'r', routes, rules: [{ route: 'tech', when: () => false }] });
    await expect(runOn(router, 'x')).rejects.toMatchObject({ errorCode: 'no_route' });
    expect(() => new Router({ name: 'r', routes, fallback: 'nope' })).toThrow(/fallback/);
  });
});
