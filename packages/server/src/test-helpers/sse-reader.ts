import { createParser } from 'eventsource-parser';

export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseConnection {
  status: number;
  /** Messages and comments as they arrive; ends when the server ends the stream or `abort()` is called. */
  messages: AsyncGenerator<SseMessage>;
  comments: string[];
  abort(): void;
}

/** Opens an SSE stream with fetch (a bare client: no reconnection), for tests. */
export async function openSse(url: string, options: { headers?: Record<string, string>; lastEventId?: string } = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(url, { headers, signal: controller.signal });
  const comments: string[] = [];
  async function* messages(): AsyncGenerator<SseMessage> {
    if (!response.body) return;
    const pending: SseMessage[] = [];
    const parser = createParser({
      onEvent: (m) => pending.push({ id: m.id, event: m.event ?? 'message', data: m.data }),
      onComment: (c) => comments.push(c),
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<string>;
        try {
          chunk = await reader.read();
        } catch {
          return;
        }
        if (chunk.done) return;
        parser.feed(chunk.value);
        while (pending.length > 0) yield pending.shift()!;
      }
    } finally {
      controller.abort();
    }
  }
  return { status: response.status, messages: messages(), comments, abort: () => controller.abort() };
}

/** Reads messages until `stop` says so (inclusive) or the stream ends. */
export async function collect(connection: SseConnection, stop: (m: SseMessage, all: SseMessage[]) => boolean = () => false): Promise<SseMessage[]> {
  // `next()` rather than `for await`: leaving a `for await` early would close the stream.
  const all: SseMessage[] = [];
  for (;;) {
    const { done, value } = await connection.messages.next();
    if (done) return all;
    all.push(value);
    if (stop(value, all)) return all;
  }
}

export const TERMINAL = new Set(['job.completed', 'job.failed', 'job.cancelled', 'job.interrupted', 'job.dead_lettered']);
