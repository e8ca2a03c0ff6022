import { ScriptedProvider, type ModelRequest, type ScriptedAnswer } from '@baton/llm-client';
import { roleOf } from './roles.js';

/** How long each scripted researcher answer takes, so concurrent researchers overlap visibly. */
const RESEARCH_DELAY_MS = 25;

/**
 * An offline model for every role: each answer is a function of the request (its role, its
 * last user message and the tool results so far), so a run gives the same output every time.
 */
export function createScriptedModel(): ScriptedProvider {
  return new ScriptedProvider({ model: 'scripted-research', script: (request) => answer(request) });
}

function answer(request: ModelRequest): string | ScriptedAnswer {
  const system = request.messages.find((m) => m.role === 'system')?.content;
  const prompt = lastUser(request);
  switch (roleOf(system)) {
    case 'planner':
      return plan(prompt);
    case 'researcher':
      return research(request, prompt);
    case 'summarizer':
      return summarize(prompt);
    case 'optimist':
      return /round: 1\b/i.test(prompt) ? 'ACCEPT: costs, efficiency and emissions are stated with sources.' : 'ACCEPT: sound, with the installation caveat the skeptic raised.';
    case 'skeptic':
      return /round: 1\b/i.test(prompt)
        ? 'REVISE: the summary underplays installation limits in older houses and the waits for installers.'
        : 'ACCEPT: sound, provided it says older houses may need insulation or larger radiators first.';
    case 'moderator':
      return moderate(prompt);
    case 'synthesizer':
      return synthesize(prompt);
    default:
      return `You said: ${prompt}`;
  }
}

function lastUser(request: ModelRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role === 'user') return m.content;
  }
  return '';
}

function plan(prompt: string): string {
  const subject = /heat pump/i.test(prompt) ? 'a heat pump' : 'it';
  return [
    `1. What does ${subject} cost to install and run?`,
    `2. How efficient is ${subject} in practice, including cold weather?`,
    `3. What are the emissions of ${subject} compared with gas?`,
    `4. What installation constraints do homes face?`,
  ].join('\n');
}

/** The researcher's search query for a question (checked in order). */
const QUERIES: ReadonlyArray<readonly [RegExp, string]> = [
  [/installation/i, 'installation'],
  [/cost/i, 'cost'],
  [/efficien/i, 'efficiency'],
  [/emission/i, 'emissions'],
];

function research(request: ModelRequest, prompt: string): string | ScriptedAnswer {
  const question = prompt.replace(/^Question:\s*/i, '').trim();
  const result = [...request.messages].reverse().find((m) => m.role === 'tool');
  if (!result) {
    const query = QUERIES.find(([pattern]) => pattern.test(question))?.[1] ?? question;
    return { toolCalls: [{ name: 'search_notes', arguments: { query } }], delayMs: RESEARCH_DELAY_MS };
  }
  const notes = (JSON.parse(result.content) as { notes?: Array<{ id: string; text: string }> }).notes ?? [];
  if (notes.length === 0) return { text: `No notes found for: ${question}`, delayMs: RESEARCH_DELAY_MS };
  return { text: notes.map((n) => `${n.text} [${n.id}]`).join(' '), delayMs: RESEARCH_DELAY_MS };
}

function summarize(prompt: string): string {
  // One sentence per finding: its first sentence, with the finding's note ids.
  const lines = prompt.split('\n').filter((l) => /^- /.test(l));
  const sentences = lines.map((l) => {
    const ids = [...l.matchAll(/\[(n\d+)\]/g)].map((m) => m[1]).join(', ');
    const first = l.replace(/^- [^:]*:\s*/, '').split(/(?<=\.)\s/)[0]!.replace(/\s*\[n\d+\]/g, '');
    return `${first.replace(/\.$/, '')} [${ids}].`;
  });
  return sentences.join(' ');
}

function moderate(prompt: string): string {
  const positions = prompt.split('\n').filter((l) => /^- (optimist|skeptic):/.test(l));
  const accepted = positions.length > 0 && positions.every((p) => /:\s*ACCEPT/.test(p));
  if (accepted) return JSON.stringify({ consensus: true, answer: 'Sound, provided older houses may need insulation or larger radiators first.', summary: 'Both critics accept.' });
  return JSON.stringify({ consensus: false, summary: 'The skeptic wants the installation limits stated; the optimist accepts as is.' });
}

function synthesize(prompt: string): string {
  const caveat = /Verdict: (.*)/.exec(prompt)?.[1]?.trim() ?? '';
  return [
    'Heat pumps cost more up front but run cheaper where electricity is under three times the price of gas, and subsidies narrow the gap.',
    'They deliver 2.5-4.5 units of heat per unit of electricity and cut CO2 by about 60 % on an average EU grid.',
    caveat ? `Caveat agreed by the critics: ${caveat}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}
