import { TimeoutError } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { RuntimeKernel, type RuntimeStores } from '../kernel/runtime-kernel.js';
import { agentOperator, fnOperator } from './basic-operators.js';
import { ChainOperator } from './chain-operator.js';
import { OperatorContext } from './operator-context.js';
import { ParallelOperator } from './parallel-operator.js';
import { operatorWorkflow } from './run-operator.js';
import { scope, scriptedAgent, stores } from './orchestration.test.helpers.js';

describe('operators in a paused and resumed job', () => {
  it('a parallel branch waiting for a person pauses the job after its siblings finish; a new kernel resumes without re-running them', async () => {
    const s = stores();
    const tokens: string[] = [];
    const counts = { research: 0, legal: 0, approval: 0, merge: 0 };
    const writer = scriptedAgent('writer', (m) => `draft: ${m}`);
    const build = () =>
      new ChainOperator({
        name: 'release',
        operators: [
          agentOperator(writer.agent),
          new ParallelOperator({
            name: 'checks',
            operators: [
              fnOperator('research', (d: string) => {
                counts.research++;
                return `sources for ${d}`;
              }),
              fnOperator('approval', async (d: string, ctx) => {
                counts.approval++;
                const outcome = await ctx.waitForAction({ type: 'approval', title: `Approve ${d}?` });
                return outcome.status;
              }),
              fnOperator('legal', (d: string) => {
                counts.legal++;
                return `legal ok for ${d}`;
              }),
            ],
          }),
          fnOperator('merge', (outputs: string[]) => {
            counts.merge++;
            return outputs.join(' / ');
          }),
        ],
      });
    const kernelOn = (st: RuntimeStores) => RuntimeKernel.create({ stores: st, workflows: { release: operatorWorkflow(build()) }, onActionRequired: ({ resumeToken }) => tokens.push(resumeToken) });

    const a = kernelOn(s);
    const handle = await a.execute({ ...scope, workflow: 'release', input: 'v2' });
    expect((await handle.settled()).status).toBe('waiting_for_action');
    expect(counts).toEqual({ research: 1, legal: 1, approval: 1, merge: 0 });
    await a.close();

    const b = kernelOn(s);
    const { handle: resumed } = await b.resume(tokens[0]!, { approved: true }, { scopeId: scope.scopeId, principalId: 'bob' });
    const result = await resumed!.result();
    expect((result.output as { output: string }).output).toBe('sources for draft: v2 / resolved / legal ok for draft: v2');
    // Only the waiting branch ran again (to read the answer); the agent was called once.
    expect(counts).toEqual({ research: 1, legal: 1, approval: 2, merge: 1 });
    expect(writer.provider.calls).toHaveLength(1);
  });

  it('a re-run that asks for another operator at a recorded position is a ReplayDivergenceError', async () => {
    const s = stores();
    let variant = 'first';
    const kernel = RuntimeKernel.create({
      stores: s,
      retry: { maxAttempts: 2, initialDelayMs: 1 },
      _internal: { sleep: async () => {}, random: () => 0 },
      workflows: {
        wf: (ctx) =>
          OperatorContext.within(ctx, 'outer', async (octx) => {
            await octx.run(fnOperator(variant, () => 1), null);
            variant = 'second';
            throw new TimeoutError(1, 'A flaky call');
          }),
      },
    });
    const handle = await kernel.execute({ ...scope, workflow: 'wf', input: null });
    await expect(handle.result()).rejects.toMatchObject({ errorCode: 'replay_divergence', message: expect.stringMatching(/step 0\.0: the journal holds custom 'operator:first', the code asked for custom 'operator:second'/) });
  });
});
