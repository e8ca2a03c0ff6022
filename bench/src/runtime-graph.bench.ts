/**
 * Graph executor and recording workloads, in memory.
 *
 * G1  a 100-node DAG of no-op nodes (10 layers of 10, each node fed by two of the layer
 *     before), maxParallel 8: time per node — scheduling, the node's journaled step (journal
 *     append, step events) — from the job's time minus an empty job's.
 * G2  a 20-wide fan-out/fan-in (source → 20 no-op nodes → join), maxParallel 20: per node, same way.
 * R1  a 100-step job (model call + step, alternating): the recording's size, and save/load time.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionEngine, ScriptedProvider } from '@baton/llm-client';
import { ExecutionGraph, GraphExecutor, Recording, ReplayRecorder, RunMetadata, RuntimeKernel, type Workflow } from '@baton/agent-runtime';
import { fmtNs, latencyRow, printTable, summarize } from './harness.js';

const scope = { scopeId: 'bench', principalId: 'bench' };

function layeredDag(layers: number, width: number): ExecutionGraph {
  const g = new ExecutionGraph({ name: 'dag' });
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      g.addNode({ id: `n${l}_${i}`, run: () => null });
      if (l > 0) {
        g.addEdge({ from: `n${l - 1}_${i}`, to: `n${l}_${i}` });
        g.addEdge({ from: `n${l - 1}_${(i + 1) % width}`, to: `n${l}_${i}` });
      }
    }
  }
  return g;
}

function fanOutIn(width: number): ExecutionGraph {
  const g = new ExecutionGraph({ name: 'fan' });
  g.addNode({ id: 'source', run: () => null }).addNode({ id: 'join', run: () => null });
  for (let i = 0; i < width; i++) g.addNode({ id: `w${i}`, run: () => null }).addEdge({ from: 'source', to: `w${i}` }).addEdge({ from: `w${i}`, to: 'join' });
  return g;
}

/** Median job time with the graph, minus the median of an empty job, per node. */
async function perNode(graph: ExecutionGraph, maxParallel: number, runs: number): Promise<{ samples: number[]; baselineNs: number }> {
  const executor = new GraphExecutor({ maxParallel });
  const workflows: Record<string, Workflow> = { graph: (ctx) => executor.run(ctx, graph, null).then(() => null), empty: () => null };
  const nodes = graph.nodes.length;
  const timeJobs = async (workflow: string, n: number) => {
    // A fresh kernel (fresh stores) every 200 jobs, so store growth does not skew the figures.
    let kernel = RuntimeKernel.create({ workflows });
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 200 === 0) kernel = RuntimeKernel.create({ workflows });
      const t0 = process.hrtime.bigint();
      await (await kernel.execute({ ...scope, workflow, input: null })).result();
      out.push(Number(process.hrtime.bigint() - t0));
    }
    return out.slice(Math.floor(n / 5));
  };
  await timeJobs('graph', 200);
  await timeJobs('empty', 200);
  const baseline = summarize(await timeJobs('empty', runs)).median;
  const samples = (await timeJobs('graph', runs)).map((ns) => Math.max(0, ns - baseline) / nodes);
  return { samples, baselineNs: baseline };
}

async function graphs(): Promise<void> {
  const dag = await perNode(layeredDag(10, 10), 8, 400);
  const fan = await perNode(fanOutIn(20), 20, 600);
  printTable('G1/G2: graph executor overhead per node (journaled step + scheduling), in memory', [
    { ...latencyRow('G1 100-node DAG (10×10, maxParallel 8)', dag.samples, '< 30 µs median'), 'empty job': fmtNs(dag.baselineNs) },
    { ...latencyRow('G2 20-wide fan-out/fan-in (22 nodes)', fan.samples, '< 30 µs median'), 'empty job': fmtNs(fan.baselineNs) },
  ]);
}

async function recordings(): Promise<void> {
  const workflow: Workflow = async (ctx) => {
    let last = '';
    for (let i = 0; i < 50; i++) {
      last = (await ctx.callModel({ messages: [{ role: 'user', content: `step ${i}: ${last.slice(0, 40)}` }] })).text;
      await ctx.step(`note-${i}`, () => ({ index: i, chars: last.length }));
    }
    return { last };
  };
  const engine = new ExecutionEngine({ provider: new ScriptedProvider({ loop: true, script: ['x'.repeat(200)] }) });
  const kernel = RuntimeKernel.create({ engine, workflows: { hundred: workflow } });
  const recorder = new ReplayRecorder(kernel.stores.events, RunMetadata.create({ runtimeVersion: '0.0.0', modelVersion: 'scripted-1' }), { journal: kernel.stores.journal, jobs: kernel.stores.jobs });
  recorder.start(null);
  await (await kernel.execute({ ...scope, workflow: 'hundred', input: null })).result();
  const recording = await recorder.stop();
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  const path = join(dir, 'run.json');
  const save: number[] = [];
  const load: number[] = [];
  try {
    for (let i = 0; i < 120; i++) {
      const t0 = process.hrtime.bigint();
      await recording.save(path);
      const t1 = process.hrtime.bigint();
      await Recording.load(path);
      const t2 = process.hrtime.bigint();
      if (i >= 20) {
        save.push(Number(t1 - t0));
        load.push(Number(t2 - t1));
      }
    }
    const bytes = statSync(path).size;
    const steps = Object.values(recording.journals)[0]?.length ?? 0;
    printTable(`R1: recording of a ${steps}-step job (${recording.events.length} events), on local disk`, [
      { ...latencyRow('save (JSON, temp file + rename)', save, '', 'ms'), size: `${(bytes / 1024).toFixed(1)} KiB`, 'bytes/step': Math.round(bytes / Math.max(1, steps)) },
      { ...latencyRow('load (parse + validate every event and entry)', load, '', 'ms'), size: '', 'bytes/step': '' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await graphs();
await recordings();
