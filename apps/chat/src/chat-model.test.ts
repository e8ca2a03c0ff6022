import type { Message } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { INTERRUPTED_MARKER, chatScript, interruptedTurn } from './chat-model.js';

const ask = (messages: Message[]) => chatScript({ messages });

describe('the chat’s scripted model', () => {
  it('asks to run deploy with the version the user named', () => {
    expect(ask([{ role: 'user', content: 'Please deploy 3.1.4 today' }])).toEqual({
      text: 'I will deploy version 3.1.4 to production. That needs your approval first.',
      toolCalls: [{ name: 'deploy', arguments: { version: '3.1.4', environment: 'production' } }],
    });
  });

  it('after an interruption, says what it had got to and answers the new message', () => {
    const history: Message[] = [
      { role: 'user', content: 'Explain leases' },
      { role: 'assistant', content: `A lease is a time-limited claim on\n${INTERRUPTED_MARKER}` },
      { role: 'user', content: 'Shorter please' },
    ];
    expect(interruptedTurn(history)).toEqual({ question: 'Explain leases', partial: 'A lease is a time-limited claim on' });
    const answer = ask(history) as string;
    expect(answer).toContain('You interrupted my answer to “Explain leases”: I had got 7 words in, up to “…lease is a time-limited claim on”.');
    expect(answer).toContain('here is my answer to “Shorter please”');
  });

  it('reports a rejected tool call with the person’s comment, and a finished one with its result', () => {
    const asked: Message[] = [{ role: 'user', content: 'deploy 1.0.0' }, { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'deploy', arguments: '{}' }] }];
    const rejected = ask([...asked, { role: 'tool', toolCallId: 'c1', toolName: 'deploy', content: 'Error: this tool call was not allowed: rejected by visitor-1: not today' }]);
    expect(rejected).toBe('Understood, I did not deploy. You said: “not today”.');
    const done = ask([...asked, { role: 'tool', toolCallId: 'c1', toolName: 'deploy', content: 'deployed 1.0.0 to production' }]);
    expect(done).toBe('Done: deployed 1.0.0 to production. The release is live.');
  });
});
