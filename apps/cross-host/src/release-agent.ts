import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, ExecutionEngine, ScriptedProvider, defineTool, type LanguageModel, type ModelRequest, type ScriptStep } from '@baton/llm-client';
import { PolicyEngine } from '@baton/agent-runtime';
import { z } from 'zod';

export const INSTRUCTIONS = `You are a release manager. To publish a release note: read the changelog with read_changelog,
write a short release note (a title line and 3-5 bullet points), then publish it with deploy_release_note.
Publishing needs a person's approval; the runtime asks for it. When it is published, answer with one
sentence saying where it is.`;

export const TASK = 'Draft and deploy the release note for version 1.5.0 (changes since 1.4.0).';

const CHANGELOG = [
  'feat: jobs pause for human approval and resume on another host',
  'feat: interrupt a running answer with the next message, keeping its partial text',
  'fix: retries honour retry-after from rate-limited providers',
  'perf: journal appends are one row per step',
];

/** The model: a real one when a key is set, else a scripted one that plays the same part. */
export async function createModel(): Promise<{ model: LanguageModel; label: string }> {
  if (process.env['OPENAI_API_KEY']) {
    const { createOpenAI } = await import('@baton/llm-client/openai');
    const model = createOpenAI({ model: process.env['OPENAI_MODEL'] ?? 'gpt-4o-mini' });
    return { model, label: `OpenAI (${model.modelId})` };
  }
  if (process.env['ANTHROPIC_API_KEY']) {
    const { createAnthropic } = await import('@baton/llm-client/anthropic');
    const model = createAnthropic({ model: process.env['ANTHROPIC_MODEL'] ?? 'claude-haiku-4-5' });
    return { model, label: `Anthropic (${model.modelId})` };
  }
  return { model: scriptedReleaseModel(), label: 'scripted model (no API key set)' };
}

/**
 * Plays the release manager deterministically from the conversation so far, so that a resumed
 * run on another host (a new process, a new provider instance) continues the same story.
 */
export function scriptedReleaseModel(): ScriptedProvider {
  return new ScriptedProvider({
    model: 'scripted-release-manager',
    tokenDelayMs: 0,
    script: (request: ModelRequest): ScriptStep => {
      const last = request.messages[request.messages.length - 1];
      if (last?.role === 'tool' && last.toolName === 'read_changelog') {
        const lines = JSON.parse(last.content) as { changes: string[] };
        const notes = `Baton 1.5.0\n${lines.changes.map((c) => `- ${c.replace(/^\w+: /, '')}`).join('\n')}`;
        return { text: 'Here is the draft; publishing it now.', toolCalls: [{ name: 'deploy_release_note', arguments: { version: '1.5.0', notes } }] };
      }
      if (last?.role === 'tool' && last.toolName === 'deploy_release_note') {
        return last.isError ? `The release note was not published: ${last.content}` : `The 1.5.0 release note is live at ${JSON.parse(last.content).url}.`;
      }
      return { text: 'Reading the changelog first.', toolCalls: [{ name: 'read_changelog', arguments: { since: '1.4.0' } }] };
    },
  });
}

/** The agent both hosts run: the same tools and instructions, so either can continue the job. */
export function createReleaseAgent(model: LanguageModel, dataDir: string): { agent: Agent; engine: ExecutionEngine } {
  const engine = new ExecutionEngine({ provider: model });
  const readChangelog = defineTool({
    name: 'read_changelog',
    description: 'Lists the changes merged since a version.',
    parameters: z.object({ since: z.string().describe('version, e.g. 1.4.0') }),
    execute: ({ since }) => ({ since, changes: CHANGELOG }),
  });
  const deploy = defineTool({
    name: 'deploy_release_note',
    description: 'Publishes a release note. Needs approval.',
    parameters: z.object({ version: z.string(), notes: z.string().min(1) }),
    metadata: { sideEffects: true },
    execute: async ({ version, notes }, { idempotencyKey }) => {
      // Idempotent by the step's stable key: publishing the same step twice writes once.
      const dir = join(dataDir, 'published');
      await mkdir(dir, { recursive: true });
      const file = join(dir, `release-${version}.md`);
      const existing = await readFile(file, 'utf8').catch(() => undefined);
      if (!existing?.includes(idempotencyKey)) await writeFile(file, `<!-- ${idempotencyKey} -->\n${notes}\n`, { flag: 'a' });
      return { url: `https://example.com/releases/${version}`, file };
    },
  });
  const agent = new Agent({ engine, name: 'release-manager', instructions: INSTRUCTIONS, tools: [readChangelog, deploy], maxTurns: 8 });
  return { agent, engine };
}

/** Deploying needs a person's approval; everything else is allowed. */
export function releasePolicy(): PolicyEngine {
  return new PolicyEngine({
    defaultSet: 'release',
    sets: [{ name: 'release', tools: [{ name: 'deploys-need-approval', tools: ['deploy_*'], requireApproval: true, reason: 'publishing is visible to customers' }] }],
  });
}
