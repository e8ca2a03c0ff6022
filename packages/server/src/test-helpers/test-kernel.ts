import { PolicyEngine, RuntimeKernel, type RuntimeKernelOptions } from '@baton/agent-runtime';
import { Agent, ExecutionEngine, ScriptedProvider, defineTool, type ModelRequest, type ScriptStep } from '@baton/llm-client';
import { z } from 'zod';

export interface TestKernelOptions {
  /** Delay per streamed token (0: instant). */
  tokenDelayMs?: number;
  /** Words in a plain answer. */
  words?: number;
  /** Kernel default for a busy session. */
  sessionStrategy?: RuntimeKernelOptions['sessionStrategy'];
  stores?: RuntimeKernelOptions['stores'];
}

/**
 * A kernel factory (for `createBatonServer({ kernel })`) on the scripted model: a message that
 * mentions "deploy" makes the agent call the `deploy` tool, which needs an approval; any other
 * message gets a plain answer of `words` words, streamed token by token.
 */
export function testKernel(options: TestKernelOptions = {}) {
  const words = options.words ?? 12;
  const provider = new ScriptedProvider({
    tokenDelayMs: options.tokenDelayMs ?? 0,
    script: (request: ModelRequest): ScriptStep => {
      const last = request.messages[request.messages.length - 1];
      if (last?.role === 'tool') return `Deployed: ${last.content}`;
      const user = request.messages.find((m) => m.role === 'user')?.content ?? '';
      if (user.includes('deploy')) return { text: 'Deploying.', toolCalls: [{ name: 'deploy', arguments: { version: '1.2.3' } }] };
      return Array.from({ length: words }, (_, i) => `w${i}`).join(' ');
    },
  });
  const engine = new ExecutionEngine({ provider });
  const deploy = defineTool({
    name: 'deploy',
    description: 'Deploys a release',
    parameters: z.object({ version: z.string() }),
    execute: ({ version }) => ({ ok: true, version }),
  });
  const agent = new Agent({ engine, tools: [deploy], instructions: 'You answer and deploy releases.' });
  const policy = new PolicyEngine({ defaultSet: 'default', sets: [{ name: 'default', tools: [{ name: 'deploy-needs-approval', tools: ['deploy'], requireApproval: true }] }] });
  return (hooks: Pick<RuntimeKernelOptions, 'onActionRequired'>): RuntimeKernel =>
    RuntimeKernel.create({ engine, agent, policy, sessionStrategy: options.sessionStrategy ?? 'reject', ...(options.stores ? { stores: options.stores } : {}), ...hooks });
}
