import { chatApi } from './api.js';
import { ChatSession } from './chat-session.js';
import { InspectorView } from './inspector-view.js';
import { followSession } from './session-feed.js';

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node as T;
}

async function start(): Promise<void> {
  const messages = byId<HTMLOListElement>('messages');
  const form = byId<HTMLFormElement>('composer');
  const input = byId<HTMLTextAreaElement>('message');
  const sendError = byId<HTMLParagraphElement>('send-error');
  const connection = document.querySelector<HTMLElement>('.connection')!;
  const inspector = new InspectorView(byId('inspector'));

  await chatApi.identify();
  const sessionId = `chat-${crypto.randomUUID()}`;
  const inspect = (jobId: string): void => {
    history.replaceState(null, '', `#job=${encodeURIComponent(jobId)}`);
    inspector.show(jobId);
  };
  const chat = new ChatSession(sessionId, messages, inspect, (jobId, type) => {
    if (jobId === inspector.current && type !== 'model.delta') inspector.refreshSoon();
  });
  followSession(sessionId, (event) => chat.handle(event), (state) => {
    connection.dataset['state'] = state;
    connection.textContent = state === 'open' ? 'live' : state;
  });

  const send = async (): Promise<void> => {
    const text = input.value.trim();
    if (text === '') return;
    input.value = '';
    sendError.hidden = true;
    try {
      await chat.send(text);
    } catch (error) {
      sendError.textContent = `Not sent: ${(error as Error).message}`;
      sendError.hidden = false;
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void send();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send();
    }
  });
  const linked = /^#job=(.+)$/.exec(location.hash)?.[1];
  if (linked) inspector.show(decodeURIComponent(linked));
  input.focus();
  document.body.dataset['ready'] = 'true';
}

void start().catch((error: unknown) => {
  document.body.dataset['ready'] = 'failed';
  const note = document.getElementById('send-error');
  if (note) {
    note.textContent = `The page could not start: ${(error as Error).message}`;
    note.hidden = false;
  }
});
