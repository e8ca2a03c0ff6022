import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { Message } from '../types/messages.js';
import type { AgentMiddleware } from './types.js';

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

/** The run's opening transcript: instructions, then `history`, then `input`. */
export function buildMessages(instructions: string | undefined, history: unknown, input: unknown): Message[] {
  const messages: Message[] = [];
  if (instructions !== undefined && instructions !== '') messages.push({ role: 'system', content: instructions });
  if (history !== undefined) {
    if (!Array.isArray(history)) throw new InvalidArgumentError('options.history', 'must be an array of messages');
    history.forEach((m, i) => messages.push(checkMessage(m, `options.history[${i}]`)));
  }
  if (typeof input === 'string') {
    messages.push({ role: 'user', content: input });
  } else if (Array.isArray(input)) {
    input.forEach((m, i) => messages.push(checkMessage(m, `input[${i}]`)));
  } else {
    throw new InvalidArgumentError('input', 'must be a string or an array of messages');
  }
  if (messages.length === 0) throw new InvalidArgumentError('input', 'the run has no message to send');
  return messages;
}

function checkMessage(message: unknown, argument: string): Message {
  if (typeof message !== 'object' || message === null) throw new InvalidArgumentError(argument, 'must be a message object');
  const m = message as { role?: unknown; content?: unknown };
  if (typeof m.role !== 'string' || !ROLES.has(m.role)) throw new InvalidArgumentError(`${argument}.role`, `must be one of ${[...ROLES].join(', ')}`);
  if (typeof m.content !== 'string') throw new InvalidArgumentError(`${argument}.content`, 'must be a string');
  return message as Message;
}

/** Checks a middleware list: objects with a name and `model`/`tool` functions when present. */
export function validateMiddleware(list: unknown, argument: string): AgentMiddleware[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new InvalidArgumentError(argument, 'must be an array of middleware');
  return list.map((m: unknown, i) => {
    const at = `${argument}[${i}]`;
    if (typeof m !== 'object' || m === null) throw new InvalidArgumentError(at, 'must be an object with a name and model/tool hooks');
    const mw = m as Partial<AgentMiddleware>;
    if (typeof mw.name !== 'string' || mw.name === '') throw new InvalidArgumentError(`${at}.name`, 'must be a non-empty string');
    if (mw.model !== undefined && typeof mw.model !== 'function') throw new InvalidArgumentError(`${at}.model`, 'must be a function');
    if (mw.tool !== undefined && typeof mw.tool !== 'function') throw new InvalidArgumentError(`${at}.tool`, 'must be a function');
    return mw as AgentMiddleware;
  });
}
