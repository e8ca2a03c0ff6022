import type { LanguageModel } from '@baton/llm-client';
import { createScriptedModel } from './scripted-model.js';

/** The scripted model by default; OpenAI when OPENAI_API_KEY is set (OPENAI_MODEL, default gpt-4o-mini). */
export async function createModel(env: NodeJS.ProcessEnv = process.env): Promise<{ model: LanguageModel; label: string }> {
  if (env['OPENAI_API_KEY']) {
    const { createOpenAI } = await import('@baton/llm-client/openai');
    const name = env['OPENAI_MODEL'] ?? 'gpt-4o-mini';
    return { model: createOpenAI({ model: name }), label: `OpenAI ${name}` };
  }
  return { model: createScriptedModel(), label: 'scripted model (offline)' };
}
