import type { Message, ModelRequest, ScriptStep } from '@baton/llm-client';

/** How the agent workflow ends the assistant message of an interrupted answer. */
export const INTERRUPTED_MARKER = "[interrupted by the user's next message]";

/**
 * The offline model of the chat: a deterministic script of the request, so the app runs with no
 * key. It answers at some length (so there is time to interrupt it), asks to run the `deploy`
 * tool when the user mentions deploying, and, when the conversation holds an answer the user
 * interrupted, says what it had got to and carries on from there.
 */
export function chatScript(request: ModelRequest): ScriptStep {
  const messages = request.messages;
  const last = messages[messages.length - 1];
  const question = lastUserMessage(messages);
  if (last?.role === 'tool') return afterTool(last.content);
  if (/\bdeploy/i.test(question)) {
    const version = /\d+\.\d+\.\d+/.exec(question)?.[0] ?? '1.0.0';
    return {
      text: `I will deploy version ${version} to production. That needs your approval first.`,
      toolCalls: [{ name: 'deploy', arguments: { version, environment: 'production' } }],
    };
  }
  const interrupted = interruptedTurn(messages);
  if (interrupted) return resumeAfterInterruption(interrupted, question);
  return longAnswer(question);
}

interface InterruptedTurn {
  /** The user's message whose answer was cut off. */
  question: string;
  /** What had been said of the answer, without the marker. */
  partial: string;
}

/** The most recent interrupted answer in the conversation, with the message it answered. */
export function interruptedTurn(messages: readonly Message[]): InterruptedTurn | undefined {
  for (let i = messages.length - 1; i > 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'assistant' || !m.content.endsWith(INTERRUPTED_MARKER)) continue;
    const before = messages[i - 1]!;
    const partial = m.content.slice(0, -INTERRUPTED_MARKER.length).trim();
    return { question: before.role === 'user' ? before.content : '', partial };
  }
  return undefined;
}

function resumeAfterInterruption(turn: InterruptedTurn, question: string): string {
  const words = turn.partial.split(/\s+/).filter((w) => w !== '');
  const tail = words.slice(-6).join(' ').replace(/[“”"]/g, '');
  const said = words.length === 0 ? 'I had not said anything yet' : `I had got ${words.length} words in, up to “…${tail}”`;
  return [
    `You interrupted my answer to “${clip(turn.question)}”: ${said}.`,
    `Taking that into account, here is my answer to “${clip(question)}”.`,
    'The short version: keep what was already useful from the earlier answer, and adjust the rest to the new question.',
  ].join(' ');
}

function longAnswer(question: string): string {
  return [
    `Here is a careful answer to “${clip(question)}”.`,
    'First, it helps to say what the question is really about, because the wording often hides the constraint that matters most.',
    'Second, the usual approaches each trade speed for safety in a different way, so the right one depends on what a mistake would cost.',
    'Third, whichever you choose, write down how you will know it worked, and check that before moving on.',
    'Finally, keep the first version small: it is easier to grow a plan that works than to rescue one that does not.',
  ].join(' ');
}

function afterTool(content: string): string {
  if (content.includes('not allowed')) {
    const reason = /rejected[^:]*: (.*)$/s.exec(content)?.[1]?.trim();
    return reason ? `Understood, I did not deploy. You said: “${clip(reason)}”.` : 'Understood, I did not deploy.';
  }
  return `Done: ${content.trim()}. The release is live.`;
}

function lastUserMessage(messages: readonly Message[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'user') return m.content;
  }
  return '';
}

function clip(text: string, max = 80): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}
