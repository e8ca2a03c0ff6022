import { TimeoutError } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { GraphValidationError } from '../errors/orchestration-errors.js';
import type { JsonValue } from '../jobs/json-value.js';
import { RuntimeKernel } from '../kernel/runtime-kernel.js';
import { fnOperator } from '../orchestration/basic-operators.js';
import { scope, stores } from '../orchestration/orchestration.test.helpers.js';
import { ExecutionGraph, type GraphNode } from './execution-graph.js';
import { GraphExecutor, type GraphRunResult } from './graph-executor.js';
import { graphWorkflow } from './graph-workflow.js';

const noop = () => null;

async function run(graph: ExecutionGraph, input: JsonValue = null, options: Parameters<typeof graphWorkflow>[1] = {}) {
  const s = stores();
  const kernel = RuntimeKernel.create({ stores: s, workflows: { g: graphWorkflow(graph, options) } });
  const handle = await kernel.execute({ ...scope, workflow: 'g', input });
  const journal = () => s.journal.list({ jobId: handle.jobId, scopeId: scope.scopeId });
  return { handle, journal, result: () => handle.result().then((r) => r.output as unknown as GraphRunResult) };
}

describe('ExecutionGraph validation', () => {
  it('reports unknown nodes, duplicate and malformed ids, cycles without a bound, and loop edges that do not go back', () => {
    const g = new ExecutionGraph({ name: 'bad', nodes: [{ id: 'a', run: noop }, { id: 'a', run: noop }, { id: 'b.c', run: noop }], edges: [{ from: 'a', to: 'ghost' }] });
    expect(() => g.validate()).toThrow(GraphValidationError);
    try {
      g.validate();
    } catch (e) {
      expect((e as GraphValidationError).issues.map((i) => i.kind)).toEqual(['duplicate_node', 'invalid_node', 'unknown_node']);
      expect((e as GraphValidationError).code).toBe('graph_invalid');
    }
    const cyclic = new ExecutionGraph({ name: 'loop', nodes: [{ id: 'a', run: noop }, { id: 'b', run: noop }, { id: 'c', run: noop }], edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'b' }] });
    expect(() => cyclic.validate()).toThrow(expect.objectContaining({ code: 'graph_unbounded_cycle', issues: [expect.objectContaining({ cycle: ['b', 'c', 'b'] })] }));
    const bounded = new ExecutionGraph({ name: 'ok', nodes: [{ id: 'a', run: noop }, { id: 'b', run: noop }, { id: 'c', run: noop }], edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'b', maxTraversals: 2 }] });
    expect(bounded.validate().loopBody.get(2)).toEqual(['b', 'c']);
    const forward = new ExecutionGraph({ name: 'fw', nodes: [{ id: 'a', run: noop }, { id: 'b', run: noop }], edges: [{ from: 'a', to: 'b', maxTraversals: 1 }] });
    expect(() => forward.validate()).toThrow(/does not go back/);
    expect(() => new ExecutionGraph({ name: 'x' }).addEdge({ from: 'a', to: 'b', maxTraversals: 0 })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('a job with an invalid graph fails before any node runs', async () => {
    let ran = 0;
    const g = new ExecutionGraph({ name: 'bad', nodes: [{ id: 'a', run: () => ran++ }] });
    const kernel = RuntimeKernel.create({ workflows: { g: (ctx) => new GraphExecutor().run(ctx, g.addEdge({ from: 'a', to: 'nowhere' }), null) } });
    await expect((await kernel.execute({ ...scope, workflow: 'g', input: null })).result()).rejects.toMatchObject({ errorCode: 'graph_unknown_node' });
    expect(ran).toBe(0);
  });
});

describe('GraphExecutor', () => {
  it('fans out and in, passing each node its predecessors outputs, at most maxParallel at once', async () => {
    let running = 0;
    let peak = 0;
    const worker = (id: string): GraphNode => ({
      id,
      run: async ({ predecessors }) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 3));
        running--;
        return `${id}(${Object.values(predecessors).join(',')})`;
      },
    });
    const g = new ExecutionGraph({ name: 'fan', nodes: [{ id: 'src', run: ({ input }) => input }, worker('w1'), worker('w2'), worker('w3'), { id: 'join', run: ({ predecessors }) => Object.keys(predecessors).sort() }] });
    for (const w of ['w1', 'w2', 'w3']) g.addEdge({ from: 'src', to: w }).addEdge({ from: w, to: 'join' });
    const { result, journal } = await run(g, 'x', { maxParallel: 2 });
    const out = await result();
    expect(out.outputs).toMatchObject({ w1: 'w1(x)', w2: 'w2(x)', w3: 'w3(x)', join: ['w1', 'w2', 'w3'] });
    expect(peak).toBe(2);
    expect((await journal()).filter((e) => e.name.startsWith('node:')).map((e) => e.stepId).sort()).toEqual(['0.join.0', '0.src.0', '0.w1.0', '0.w2.0', '0.w3.0']);
  });

  it('starts ready nodes by priority, then declaration order', async () => {
    const order: string[] = [];
    const node = (id: string, priority?: number): GraphNode => ({ id, priority, run: () => order.push(id) });
    const g = new ExecutionGraph({ name: 'prio', nodes: [node('low', -1), node('plain'), node('urgent', 10), node('plain2')] });
    await (await run(g, null, { maxParallel: 1 })).result();
    expect(order).toEqual(['urgent', 'plain', 'plain2', 'low']);
  });

  it('follows conditional edges and skips nodes no taken edge reaches', async () => {
    const g = new ExecutionGraph({
      name: 'branch',
      nodes: [{ id: 'classify', run: ({ input }) => (Number(input) > 10 ? 'big' : 'small') }, { id: 'big', run: () => 'B' }, { id: 'small', run: () => 'S' }, { id: 'after_big', run: () => 'AB' }, { id: 'end', run: ({ predecessors }) => predecessors }],
      edges: [
        { from: 'classify', to: 'big', condition: (o) => o === 'big' },
        { from: 'classify', to: 'small', condition: (o) => o === 'small' },
        { from: 'big', to: 'after_big' },
        { from: 'after_big', to: 'end' },
        { from: 'small', to: 'end' },
      ],
    });
    const out = await (await run(g, 3)).result();
    expect(out.status).toEqual({ classify: 'completed', big: 'skipped', small: 'completed', after_big: 'skipped', end: 'completed' });
    expect(out.outputs['end']).toEqual({ small: 'S' });
  });

  it('retries a node whose attempt times out, with fresh step ids per attempt', async () => {
    let attempts = 0;
    const g = new ExecutionGraph({
      name: 'slow',
      nodes: [
        {
          id: 'flaky',
          timeoutMs: 20,
          retry: { maxAttempts: 3, initialDelayMs: 0 },
          run: (input, ctx) => {
            attempts++;
            if (input.attempt === 1) return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
            return ctx.step('work', () => `done on attempt ${input.attempt}`);
          },
        },
      ],
    });
    const { result, journal } = await run(g);
    expect((await result()).outputs['flaky']).toBe('done on attempt 2');
    expect(attempts).toBe(2);
    expect((await journal()).map((e) => e.stepId)).toEqual(['0.flaky.0.2.0', '0.flaky.0', '0']);
  });

  it('follows a failure edge to a recovery node; without one, fails with GraphNodeFailedError and stops the others', async () => {
    const failing = { id: 'deploy', retry: { maxAttempts: 2, initialDelayMs: 0 }, run: () => Promise.reject(new Error('cluster down')) };
    const recovered = new ExecutionGraph({ name: 'r', nodes: [failing, { id: 'rollback', run: ({ predecessors }) => ({ rolledBack: true, because: predecessors }) }], edges: [{ from: 'deploy', to: 'rollback', on: 'failure' }] });
    const out = await (await run(recovered)).result();
    expect(out.status).toEqual({ deploy: 'failed', rollback: 'completed' });
    expect(out.errors['deploy']).toMatchObject({ message: 'cluster down' });
    expect(out.outputs['rollback']).toMatchObject({ rolledBack: true, because: { deploy: { error: { message: 'cluster down' } } } });

    let stopped = false;
    const hard = new ExecutionGraph({
      name: 'h',
      nodes: [
        { id: 'deploy', run: async () => Promise.reject(new Error('cluster down')) },
        { id: 'long', run: (_i, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => ((stopped = true), reject(ctx.signal.reason)))) },
      ],
    });
    const { handle } = await run(hard);
    await expect(handle.result()).rejects.toMatchObject({ errorCode: 'graph_node_failed', message: expect.stringContaining("Node 'deploy' of graph 'h' failed after 1 attempt(s): cluster down") });
    expect(stopped).toBe(true);
  });

  it('loops back through a bounded loop edge, then goes on', async () => {
    const g = new ExecutionGraph({
      name: 'refine',
      nodes: [
        { id: 'draft', run: ({ iteration }) => `draft v${iteration}` },
        { id: 'check', run: ({ predecessors }) => ({ ok: predecessors['draft'] === 'draft v2' }) },
        { id: 'publish', run: ({ predecessors }) => predecessors['draft'] ?? predecessors['check'] },
      ],
      edges: [
        { from: 'draft', to: 'check' },
        { from: 'check', to: 'draft', maxTraversals: 5, condition: (o) => !(o as { ok: boolean }).ok },
        { from: 'check', to: 'publish' },
      ],
    });
    const out = await (await run(g)).result();
    expect(out.runs).toEqual({ draft: 3, check: 3, publish: 1 });
    expect(out.outputs['publish']).toEqual({ ok: true });
  });

  it('a job retried after a retryable failure does not re-run the nodes that had finished', async () => {
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    let failOnce = true;
    const g = new ExecutionGraph({
      name: 'recover',
      nodes: [
        { id: 'a', run: () => ++counts['a']! },
        { id: 'b', run: () => ++counts['b']! },
        {
          id: 'c',
          run: fnOperator('c', () => {
            counts['c']!++;
            if (failOnce) {
              failOnce = false;
              throw new TimeoutError(5, 'Upstream');
            }
            return 'c';
          }),
        },
      ],
      edges: [{ from: 'a', to: 'c' }, { from: 'b', to: 'c' }],
    });
    const kernel = RuntimeKernel.create({ retry: { maxAttempts: 2, initialDelayMs: 1 }, _internal: { sleep: async () => {}, random: () => 0 }, workflows: { g: graphWorkflow(g) } });
    const out = (await (await kernel.execute({ ...scope, workflow: 'g', input: null })).result()).output as unknown as GraphRunResult;
    expect(out.outputs).toEqual({ a: 1, b: 1, c: 'c' });
    expect(counts).toEqual({ a: 1, b: 1, c: 2 });
  });
});
