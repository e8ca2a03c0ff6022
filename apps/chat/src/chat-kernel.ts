import { InMemoryLedgerWriter, Ledger, PolicyEngine, RuntimeKernel, type RuntimeKernelOptions } from '@baton/agent-runtime';
import { Agent, ExecutionEngine, ScriptedProvider, defineTool } from '@baton/llm-client';
import { z } from 'zod';
import { chatScript } from './chat-model.js';

export interface ChatKernelOptions {
  /** Delay per streamed token of the scripted model (default 60 ms: readable as it streams). */
  tokenDelayMs?: number;
  /** Daily token budget of each scope (default 200,000). */
  dailyTokens?: number;
  /** Daily cost budget of each scope in USD (default "0.50"). */
  dailyCostUsd?: string;
}

/** What the chat runs on: the kernel factory for `createBatonServer`, and the ledger it bills. */
export interface ChatRuntime {
  readonly ledger: Ledger;
  readonly createKernel: (hooks: Pick<RuntimeKernelOptions, 'onActionRequired'>) => RuntimeKernel;
}

/**
 * The chat's agent on the scripted model: it streams its answers, a new message interrupts the
 * one being answered (the session strategy is `interrupt`), and its `deploy` tool needs a
 * person's approval. Every model call reserves against the scope's daily budget in the ledger.
 */
export function chatRuntime(options: ChatKernelOptions = {}): ChatRuntime {
  const provider = new ScriptedProvider({ script: chatScript, tokenDelayMs: options.tokenDelayMs ?? 60, maxRecordedCalls: 0 });
  const engine = new ExecutionEngine({ provider });
  const deploy = defineTool({
    name: 'deploy',
    description: 'Deploys a release to an environment',
    parameters: z.object({ version: z.string().regex(/^\d+\.\d+\.\d+$/), environment: z.enum(['staging', 'production']) }),
    execute: ({ version, environment }, { idempotencyKey }) => `deployed ${version} to ${environment} (deployment ${idempotencyKey})`,
  });
  const agent = new Agent({ engine, tools: [deploy], instructions: 'You are a helpful release assistant. Answer questions; deploy releases when asked.' });
  const policy = new PolicyEngine({
    defaultSet: 'chat',
    sets: [{ name: 'chat', tools: [{ name: 'deploys-need-approval', tools: ['deploy'], requireApproval: true }] }],
  });
  const ledger = new Ledger({
    writer: new InMemoryLedgerWriter(),
    resolveBudget: (scopeId) => ({ scopeId, dailyTokens: options.dailyTokens ?? 200_000, dailyCostUsd: options.dailyCostUsd ?? '0.50' }),
  });
  return {
    ledger,
    createKernel: (hooks) => RuntimeKernel.create({ engine, agent, policy, ledger, sessionStrategy: 'interrupt', ...hooks }),
  };
}
