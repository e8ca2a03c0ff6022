/**
 * Agent benchmarks: the cost the agent loop and its default middleware add per turn, and
 * streaming events per second through `Agent.stream()`. The model is the scripted provider
 * answering instantly, behind the real `ExecutionEngine`. Timing never fails the run.
 */
import { Agent, ExecutionEngine, ScriptedProvider, defineTool, type ModelRequest, type ScriptStep } from '@baton/llm-client';
import { z } from 'zod';
import { latencyRow, measure, printTable, rssMb, summarize } from './harness.js';

const ITERATIONS = 20_000;
const request: ModelRequest = { messages: [{ role: 'user', content: 'hi' }] };

function engineFor(script: ScriptStep[]) {
  return new ExecutionEngine({ provider: new ScriptedProvider({ script, loop: true }) });
}

async function overhead(): Promise<void> {
  const engine = engineFor(['ok']);
  const bare = await measure(ITERATIONS, () => engine.complete(request));

  const agent = new Agent({ engine: engineFor(['ok']) });
  const noDefaults = new Agent({ engine: engineFor(['ok']), useDefaultMiddleware: false });
  // Warm both paths first, so neither case pays for the other's JIT and GC warm-up.
  for (let i = 0; i < 10_000; i++) await Promise.all([agent.run('hi'), noDefaults.run('hi')]);
  const oneTurn = await measure(ITERATIONS, () => agent.run('hi'));
  const bareAgent = await measure(ITERATIONS, () => noDefaults.run('hi'));

  const add = defineTool({ name: 'add', parameters: z.object({ a: z.number(), b: z.number() }), execute: ({ a, b }) => a + b });
  const toolAgent = new Agent({ engine: engineFor([{ toolCalls: [{ name: 'add', arguments: { a: 1, b: 2 } }] }, '3']), tools: [add] });
  const twoTurns = await measure(ITERATIONS / 2, () => toolAgent.run('1 + 2?'));

  const engineMedian = summarize(bare).median;
  const turnMedian = summarize(oneTurn).median;
  printTable('Agent overhead per turn (scripted provider, no delay)', [
    latencyRow('engine.complete() alone', bare),
    latencyRow('agent.run(): 1 turn, default chain', oneTurn),
    latencyRow('agent.run(): 1 turn, no default chain', bareAgent),
    latencyRow('agent.run(): 2 turns + 1 tool call', twoTurns),
    { case: 'agent overhead per turn (median, default chain)', n: '', median: `${((turnMedian - engineMedian) / 1e3).toFixed(2)} µs`, p95: '', p99: '', target: '' },
  ]);
}

async function streaming(): Promise<void> {
  const TOKENS = 200_000;
  const text = 'tok '.repeat(TOKENS);
  const rows: Array<Record<string, string | number>> = [];
  const rate = async (name: string, run: () => Promise<number>) => {
    await run(); // warm-up
    globalThis.gc?.();
    const best: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = process.hrtime.bigint();
      const events = await run();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      best.push(events / s);
    }
    const perSec = Math.max(...best);
    rows.push({ case: name, events: TOKENS, 'events/s': Math.round(perSec).toLocaleString('en-US'), 'ns/event': (1e9 / perSec).toFixed(0), target: name.startsWith('agent') ? '> 1,000,000/s' : '' });
  };

  const provider = new ScriptedProvider({ script: [text], loop: true });
  await rate('provider.stream() alone', async () => {
    let n = 0;
    for await (const e of provider.stream(request)) if (e.type === 'text-delta') n++;
    return n;
  });
  const engine = new ExecutionEngine({ provider: new ScriptedProvider({ script: [text], loop: true }) });
  await rate('engine.stream()', async () => {
    let n = 0;
    for await (const e of engine.stream(request)) if (e.type === 'text-delta') n++;
    return n;
  });
  const agent = new Agent({ engine: new ExecutionEngine({ provider: new ScriptedProvider({ script: [text], loop: true }) }) });
  await rate('agent.stream() (default chain)', async () => {
    let n = 0;
    for await (const e of agent.stream('go')) if (e.type === 'text-delta') n++;
    return n;
  });
  printTable(`Streaming through the agent (${TOKENS.toLocaleString('en-US')} text deltas per run, best of 3)`, rows);
  console.log(`\nRSS after the runs: ${rssMb()} MB`);
}

await overhead();
await streaming();
