import { describe, expect, it } from 'vitest';
import { RuntimeKernel, type RuntimeStores } from '../kernel/runtime-kernel.js';
import { agentOperator } from '../orchestration/basic-operators.js';
import { scope, scriptedAgent, stores } from '../orchestration/orchestration.test.helpers.js';
import { approvalNode } from './approval-node.js';
import { ExecutionGraph, type NodeInput, type NodeRun } from './execution-graph.js';
import type { GraphRunResult } from './graph-executor.js';
import { graphWorkflow } from './graph-workflow.js';

/**
 * The plan → critique → human approval → execute flow: the critic sends weak plans back to the
 * planner (a bounded loop), a person approves the plan, execution is retried on a transient
 * failure, and a permanent failure goes to a rollback node.
 */
function setup(options: { executeFailures: number }) {
  const counts: Record<string, number> = { plan: 0, critique: 0, approve: 0, execute: 0, rollback: 0, abandon: 0 };
  const counted = (id: string, run: NodeRun): NodeRun => {
    if (typeof run !== 'function') {
      return { name: run.name, execute: (input, ctx) => (counts[id]!++, run.execute(input, ctx)) };
    }
    return (input, ctx) => (counts[id]!++, run(input, ctx));
  };
  const planner = scriptedAgent('planner', (m) => (m.includes('add a rollback step') ? '1. back up\n2. migrate\n3. verify\n4. rollback on error' : '1. migrate\n2. verify'));
  const critic = scriptedAgent('critic', (m) => (m.includes('rollback') ? 'OK' : 'REVISE: add a rollback step'));
  let failuresLeft = options.executeFailures;
  const executed: string[] = [];

  const graph = new ExecutionGraph({
    name: 'change-request',
    nodes: [
      {
        id: 'plan',
        run: counted(
          'plan',
          agentOperator<NodeInput, string>(planner.agent, {
            prompt: ({ input, outputs, iteration }) => (iteration === 0 ? `Plan: ${String(input)}` : `Plan: ${String(input)}. Feedback: ${String(outputs['critique'])}`),
          }),
        ),
      },
      { id: 'critique', run: counted('critique', agentOperator<NodeInput, string>(critic.agent, { prompt: ({ predecessors }) => `Critique this plan:\n${String(predecessors['plan'])}` })) },
      { id: 'approve', run: counted('approve', approvalNode({ title: 'Approve the migration plan', payload: ({ outputs }) => ({ plan: outputs['plan'] ?? null }) })) },
      {
        id: 'execute',
        retry: { maxAttempts: 2, initialDelayMs: 0 },
        run: counted('execute', async ({ outputs }, ctx) =>
          ctx.step('apply', ({ key }) => {
            if (failuresLeft-- > 0) throw new Error('database locked');
            executed.push(key);
            return { applied: String(outputs['plan']).split('\n').length };
          }),
        ),
      },
      { id: 'rollback', run: counted('rollback', ({ predecessors }) => ({ rolledBack: true, reason: predecessors['execute'] })) },
      { id: 'abandon', run: counted('abandon', ({ predecessors }) => ({ abandoned: true, by: predecessors['approve'] })) },
    ],
    edges: [
      { from: 'plan', to: 'critique' },
      { from: 'critique', to: 'plan', maxTraversals: 2, condition: (o) => String(o).startsWith('REVISE') },
      { from: 'critique', to: 'approve' },
      { from: 'approve', to: 'execute', condition: (o) => (o as { approved: boolean }).approved },
      { from: 'approve', to: 'abandon', condition: (o) => !(o as { approved: boolean }).approved },
      { from: 'execute', to: 'rollback', on: 'failure' },
    ],
  });
  const tokens: string[] = [];
  const kernelOn = (s: RuntimeStores) => RuntimeKernel.create({ stores: s, workflows: { change: graphWorkflow(graph) }, onActionRequired: ({ resumeToken }) => tokens.push(resumeToken) });
  return { counts, planner, critic, executed, tokens, kernelOn };
}

async function pauseThenResume(env: ReturnType<typeof setup>, resolution: { approved: boolean; comment?: string }) {
  const s = stores();
  const first = env.kernelOn(s);
  const handle = await first.execute({ ...scope, workflow: 'change', input: 'move users to the new schema' });
  const paused = await handle.settled();
  expect(paused.status).toBe('waiting_for_action');
  expect(env.counts).toMatchObject({ plan: 2, critique: 2, approve: 1, execute: 0 });
  await first.close();

  const second = env.kernelOn(s);
  const { handle: resumed } = await second.resume(env.tokens[0]!, resolution, { scopeId: scope.scopeId, principalId: 'reviewer' });
  const result = await resumed!.result();
  return { output: result.output as unknown as GraphRunResult, s, jobId: handle.jobId };
}

describe('plan → critique → approval → execute', () => {
  it('pauses at the approval, resumes in a new kernel over the same stores, and finishes without re-running finished nodes', async () => {
    const env = setup({ executeFailures: 1 });
    const { output, s, jobId } = await pauseThenResume(env, { approved: true, comment: 'go' });
    expect(output.status).toEqual({ plan: 'completed', critique: 'completed', approve: 'completed', execute: 'completed', abandon: 'skipped', rollback: 'skipped' });
    expect(output.runs).toMatchObject({ plan: 2, critique: 2, approve: 1, execute: 1 });
    expect(output.outputs['execute']).toEqual({ applied: 4 });
    expect(output.outputs['approve']).toEqual({ approved: true, status: 'resolved', comment: 'go', resolvedBy: 'reviewer' });
    // Planner and critic ran twice each (one revision) before the pause and never again;
    // the approval node ran once more to read the answer; execute failed once and was retried.
    expect(env.counts).toEqual({ plan: 2, critique: 2, approve: 2, execute: 2, rollback: 0, abandon: 0 });
    expect(env.planner.provider.calls).toHaveLength(2);
    expect(env.critic.provider.calls).toHaveLength(2);
    expect(env.executed).toEqual([`${jobId}:0.execute.0.2.0`]);
    const ids = (await s.journal.list({ jobId, scopeId: scope.scopeId })).map((e) => e.stepId);
    expect(ids).toContain('0.plan.1');
    expect(ids).toContain('0.approve.0.1.0');
  });

  it('a rejected plan goes to the abandon node and nothing is executed', async () => {
    const env = setup({ executeFailures: 0 });
    const { output } = await pauseThenResume(env, { approved: false, comment: 'not this week' });
    expect(output.status).toMatchObject({ approve: 'completed', execute: 'skipped', abandon: 'completed', rollback: 'skipped' });
    expect(output.outputs['abandon']).toMatchObject({ abandoned: true, by: { approved: false, comment: 'not this week' } });
    expect(env.executed).toEqual([]);
  });

  it('an execution that keeps failing goes to the rollback node', async () => {
    const env = setup({ executeFailures: 5 });
    const { output } = await pauseThenResume(env, { approved: true });
    expect(output.status).toMatchObject({ execute: 'failed', rollback: 'completed' });
    expect(output.errors['execute']).toMatchObject({ message: 'database locked' });
    expect(env.counts['execute']).toBe(2);
  });
});
