/**
 * Runtime workloads W1, W3, W4, W5 and W6, defined so they can be run on any agent SDK: the model
 * is the scripted provider answering instantly, the stores are the in-memory ones.
 *
 * W1  a job of 10 sequential steps, each one model call whose 200-character answer is appended
 *     to the job's state: time per step, journal write included.
 * W3  a 3-step job whose step 2 waits for an approval: execute → persisted as waiting, and
 *     resume on a fresh kernel over the same stores → completed.
 * W4  1,000 W1 jobs started at once: jobs per second (median of 5 bursts) and peak RSS.
 * W5  cancel() 50 ms into a 5 s model call → result() rejects (also when the model ignores the
 *     abort); interrupt latency from a new session message to the old job's stream aborted.
 * W6  bytes of a W1 job's stored journal, and its growth with the number of steps.
 */
import { Agent, ExecutionEngine, ScriptedProvider } from '@baton/llm-client';
import { RuntimeKernel, type RuntimeStores, type Workflow } from '@baton/agent-runtime';
import { latencyRow, printTable, rssMb } from './harness.js';

const ANSWER = 'x'.repeat(200);
const scope = { scopeId: 'bench', principalId: 'bench' };

/** Fresh in-memory stores (a kernel's defaults), to share between kernels. */
function stores(): RuntimeStores {
  return RuntimeKernel.create().stores;
}

function w1Workflow(steps: number): Workflow {
  return async (ctx) => {
    const state: string[] = [];
    for (let i = 0; i < steps; i++) {
      const r = await ctx.callModel({ messages: [{ role: 'user', content: `step ${i}` }] });
      state.push(r.text);
    }
    return { steps: state.length };
  };
}

function instantEngine(): ExecutionEngine {
  return new ExecutionEngine({ provider: new ScriptedProvider({ loop: true, script: [ANSWER] }) });
}

async function w1(): Promise<void> {
  const kernel = RuntimeKernel.create({ engine: instantEngine(), workflows: { w1: w1Workflow(10) } });
  const perStep: number[] = [];
  for (let i = 0; i < 1500; i++) {
    const t0 = process.hrtime.bigint();
    const h = await kernel.execute({ ...scope, workflow: 'w1', input: null });
    await h.result();
    if (i >= 200) perStep.push(Number(process.hrtime.bigint() - t0) / 10);
  }
  printTable('W1: 10-step job, per step (model call + journal append + events), in memory', [latencyRow('per step', perStep, '≤ 30 µs median')]);
}

async function w3(): Promise<void> {
  const s = stores();
  const pauseNs: number[] = [];
  const resumeNs: number[] = [];
  const workflow: Workflow = async (ctx) => {
    const plan = await ctx.step('plan', () => 'plan');
    const approval = await ctx.waitForAction({ type: 'approval', title: 'Ship it?' });
    const done = await ctx.step('execute', () => `${plan}:${JSON.stringify(approval.resolution)}`);
    return done;
  };
  for (let i = 0; i < 600; i++) {
    let token = '';
    const a = RuntimeKernel.create({ stores: s, workflows: { w3: workflow }, onActionRequired: (x) => (token = x.resumeToken) });
    const t0 = process.hrtime.bigint();
    const h = await a.execute({ ...scope, workflow: 'w3', input: null });
    await h.settled();
    const t1 = process.hrtime.bigint();
    const b = RuntimeKernel.create({ stores: s, workflows: { w3: workflow } });
    const t2 = process.hrtime.bigint();
    const { handle } = await b.resume(token, { approved: true }, { scopeId: 'bench', principalId: 'approver' });
    await handle!.result();
    const t3 = process.hrtime.bigint();
    if (i >= 100) {
      pauseNs.push(Number(t1 - t0));
      resumeNs.push(Number(t3 - t2));
    }
  }
  printTable('W3: approval pause and cross-kernel resume, in memory', [
    latencyRow('execute → persisted as waiting', pauseNs, '≤ 1 ms median', 'ms'),
    latencyRow('resume (fresh kernel) → completed', resumeNs, '≤ 1 ms median', 'ms'),
  ]);
}

async function w4(): Promise<void> {
  // One burst of 1,000 jobs on a fresh kernel; the process (and its JIT) carries over.
  const burst = async (): Promise<number> => {
    const kernel = RuntimeKernel.create({ engine: instantEngine(), workflows: { w1: w1Workflow(10) } });
    const t0 = performance.now();
    const handles = await Promise.all(Array.from({ length: 1000 }, () => kernel.execute({ ...scope, workflow: 'w1', input: null })));
    await Promise.all(handles.map((h) => h.result()));
    return performance.now() - t0;
  };
  // One burst warms the JIT; five are measured.
  await burst();
  globalThis.gc?.();
  const before = rssMb();
  let peak = before;
  const walls: number[] = [];
  for (let round = 0; round < 5; round++) {
    walls.push(await burst());
    peak = Math.max(peak, rssMb());
    globalThis.gc?.();
  }
  const sorted = [...walls].sort((a, b) => a - b);
  const median = sorted[2]!;
  printTable('W4: 1,000 W1 jobs started at once, in memory (5 bursts after a warm-up burst)', [
    {
      case: '1,000 jobs × 10 steps',
      'jobs/s (median)': Math.round(1000 / (median / 1000)),
      'jobs/s (first, slowest)': `${Math.round(1000 / (walls[0]! / 1000))}, ${Math.round(1000 / (sorted[4]! / 1000))}`,
      'wall ms (median)': median.toFixed(0),
      'RSS before MB': before,
      'peak RSS MB': peak,
      target: '≥ 5,000 jobs/s, ≤ 150 MB',
    },
  ]);
}

async function w5(): Promise<void> {
  const rows: Array<Record<string, string | number>> = [];
  for (const ignoreAbort of [false, true]) {
    const provider = new ScriptedProvider({ loop: true, script: [{ text: 'slow', delayMs: 5_000 }], ignoreAbort });
    const kernel = RuntimeKernel.create({ engine: new ExecutionEngine({ provider }), workflows: { slow: async (ctx) => (await ctx.callModel({ messages: [{ role: 'user', content: 'hi' }] })).text } });
    const samples: number[] = [];
    // The first 20 warm the JIT (as the other rows do); 100 are measured.
    for (let i = 0; i < 120; i++) {
      const h = await kernel.execute({ ...scope, workflow: 'slow', input: null });
      const result = h.result().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      const t0 = process.hrtime.bigint();
      void h.cancel();
      await result;
      if (i >= 20) samples.push(Number(process.hrtime.bigint() - t0));
    }
    rows.push(latencyRow(`cancel → result() rejects${ignoreAbort ? ' (model ignores abort)' : ''}`, samples, '≤ 0.3 ms p95', 'ms'));
  }

  // Interrupt: a streaming job; a new message for its session aborts its model stream.
  const provider = new ScriptedProvider({ loop: true, tokenDelayMs: 1, script: ['a long streamed answer '.repeat(200)] });
  const engine = new ExecutionEngine({ provider });
  const agent = new Agent({ engine, instructions: 'answer' });
  const kernel = RuntimeKernel.create({ engine, agent, sessionStrategy: 'interrupt' });
  const samples: number[] = [];
  for (let i = 0; i < 40; i++) {
    const sessionId = `s${i}`;
    const h = await kernel.execute({ ...scope, sessionId, input: 'go' });
    for await (const e of h.events()) if (e.type === 'model.delta') break;
    let aborted = 0n;
    const t0 = process.hrtime.bigint();
    const next = kernel.execute({ ...scope, sessionId, input: 'stop, new question' });
    // The old job's stream is aborted synchronously inside execute(); measure until its run reports it.
    for await (const e of h.events({ fromSeq: 1 })) {
      if (e.type === 'interruption.completed' || e.type === 'job.interrupted') {
        aborted = process.hrtime.bigint();
        break;
      }
    }
    samples.push(Number(aborted - t0));
    const n = await next;
    await n.cancel();
  }
  rows.push(latencyRow('new session message → old job interrupted (partial kept)', samples, '≤ 2 ms p95', 'ms'));
  printTable('W5: cancellation and interruption latency', rows);
}

async function w6(): Promise<void> {
  const rows: Array<Record<string, string | number>> = [];
  for (const steps of [10, 20, 40]) {
    const s = stores();
    const kernel = RuntimeKernel.create({ engine: instantEngine(), stores: s, workflows: { w: w1Workflow(steps) } });
    const h = await kernel.execute({ ...scope, workflow: 'w', input: null });
    await h.result();
    const entries = await s.journal.list({ jobId: h.jobId, scopeId: 'bench' });
    const bytes = Buffer.byteLength(JSON.stringify(entries));
    rows.push({ steps, 'journal bytes': bytes, 'bytes/step': Math.round(bytes / steps), target: steps === 10 ? '≤ 3 KB (answers are 200 chars each)' : 'linear' });
  }
  printTable('W6: stored journal size of a W1-style job', rows);
}

// W4 first, so its memory figures are those of a fresh process. Names on the command line pick workloads.
const picked = process.argv.slice(2);
const workloads: Array<[string, () => Promise<void>]> = [['w4', w4], ['w1', w1], ['w3', w3], ['w5', w5], ['w6', w6]];
for (const [name, run] of workloads) if (picked.length === 0 || picked.includes(name)) await run();
