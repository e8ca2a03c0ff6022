import { Agent, ExecutionEngine, ScriptedProvider, type ModelRequest } from '@baton/llm-client';
import { InMemoryActionStore } from '../actions/in-memory-action-store.js';
import { InMemorySignalChannel } from '../actions/in-memory-signal-channel.js';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import { InMemoryJobStore } from '../jobs/in-memory-job-store.js';
import { InMemoryJournalStore } from '../journal/in-memory-journal-store.js';
import type { RuntimeStores } from '../kernel/runtime-kernel.js';

export const scope = { scopeId: 'tenant-a', principalId: 'alice' } as const;

export function stores(): RuntimeStores {
  return {
    jobs: new InMemoryJobStore(),
    journal: new InMemoryJournalStore(),
    events: new InMemoryEventBus(),
    actions: new InMemoryActionStore(),
    signals: new InMemorySignalChannel(),
  };
}

/** The text of the last user message of a request. */
export function lastUser(request: ModelRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role === 'user') return m.content;
  }
  return '';
}

/** An agent over its own scripted provider, answering `answer(lastUserMessage, callIndex)`. */
export function scriptedAgent(name: string, answer: (message: string, callIndex: number) => string): { agent: Agent; provider: ScriptedProvider } {
  const provider = new ScriptedProvider({ script: (request, i) => answer(lastUser(request), i) });
  const engine = new ExecutionEngine({ provider });
  return { agent: new Agent({ engine, name, instructions: `You are ${name}.` }), provider };
}
