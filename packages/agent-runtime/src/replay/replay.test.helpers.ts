import { Agent, ExecutionEngine, ScriptedProvider, defineTool, type LanguageModel, type ModelRequest, type ScriptStep } from '@baton/llm-client';
import { z } from 'zod';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import { RuntimeKernel, type RuntimeStores } from '../kernel/runtime-kernel.js';
import { stores } from '../orchestration/orchestration.test.helpers.js';

/** A model that looks the weather up once, then answers with what the tool said. */
export function weatherModel(): ScriptedProvider {
  return new ScriptedProvider({
    script: (request: ModelRequest): ScriptStep => {
      const last = request.messages[request.messages.length - 1];
      if (last?.role === 'tool') return `It is ${JSON.parse(last.content).sky} in Paris.`;
      return { text: 'Let me check.', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }] };
    },
  });
}

export function weatherAgent(provider: LanguageModel, lookups: string[], toolName = 'weather'): Agent {
  const tool = defineTool({
    name: toolName,
    description: 'Current weather',
    parameters: z.object({ city: z.string() }),
    execute: ({ city }) => {
      lookups.push(city);
      return { sky: 'sunny' };
    },
  });
  return new Agent({ engine: new ExecutionEngine({ provider }), tools: [tool], instructions: 'You answer weather questions.' });
}

/** A clock that ticks 10 ms per reading, and stores whose bus uses it. */
export function clockedStores(): RuntimeStores & { now: () => number } {
  let t = 1_000_000;
  const now = () => (t += 10);
  return { ...stores(), events: new InMemoryEventBus({ now }), now };
}

export function weatherKernel(s: RuntimeStores & { now?: () => number }, provider: LanguageModel, lookups: string[]): RuntimeKernel {
  const { now, ...rest } = s;
  return RuntimeKernel.create({ stores: rest, agent: weatherAgent(provider, lookups), ...(now ? { _internal: { now } } : {}) });
}
