import { Agent, ExecutionEngine, type LanguageModel } from '@baton/llm-client';
import type { ResearchAgents } from './research-operator.js';
import { INSTRUCTIONS, type Role } from './roles.js';
import { searchNotesTool } from './tools.js';

/** Output tokens each call may use (and the ledger reserves for it). */
const MAX_OUTPUT_TOKENS = 400;

/** The seven agents of a research job, all on one model. */
export function createAgents(model: LanguageModel): ResearchAgents {
  const engine = new ExecutionEngine({ provider: model });
  const make = (role: Role, extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}) =>
    new Agent({ engine, name: role, instructions: INSTRUCTIONS[role], maxTurns: 4, modelSettings: { maxTokens: MAX_OUTPUT_TOKENS }, ...extra });
  return {
    planner: make('planner'),
    researcher: make('researcher', { tools: [searchNotesTool()] }),
    summarizer: make('summarizer'),
    optimist: make('optimist'),
    skeptic: make('skeptic'),
    moderator: make('moderator'),
    synthesizer: make('synthesizer'),
  };
}
