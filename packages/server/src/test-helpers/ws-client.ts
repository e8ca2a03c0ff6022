import { request } from 'node:http';

/** A message of the WebSocket endpoint: an event `{ id?, event, data }` or a control `{ type }`. */
export interface WsMessage {
  id?: string;
  event?: string;
  type?: string;
  data?: { seq: number; type: string; jobId: string; resumeToken?: string; [key: string]: unknown };
}

export interface WsConnection {
  readonly socket: WebSocket;
  /** Every event message so far (not ping/pong). */
  readonly events: WsMessage[];
  /** Control messages received (`ping`, `pong`). */
  readonly controls: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the events from where the last `until` stopped up to the first matching one (or the close). */
  until(done: (m: WsMessage) => boolean, timeoutMs?: number): Promise<WsMessage[]>;
  send(message: unknown): void;
  close(): void;
}

/** Opens a WebSocket with Node's global client; answers pings unless told not to. */
export async function openWs(url: string, options: { answerPings?: boolean } = {}): Promise<WsConnection> {
  const socket = new WebSocket(url);
  const events: WsMessage[] = [];
  const controls: string[] = [];
  let read = 0;
  let waiter: (() => void) | undefined;
  let isClosed = false;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.addEventListener('close', (e) => {
      isClosed = true;
      waiter?.();
      resolve({ code: e.code, reason: e.reason });
    });
  });
  socket.addEventListener('message', (e) => {
    const m = JSON.parse(String(e.data)) as WsMessage;
    if (m.type !== undefined) {
      controls.push(m.type);
      if (m.type === 'ping' && options.answerPings !== false) socket.send('{"type":"pong"}');
    } else {
      events.push(m);
    }
    waiter?.();
  });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error('WebSocket refused')), { once: true });
  });
  return {
    socket,
    events,
    controls,
    closed,
    until: async (done, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (read < events.length) {
          const m = events[read++]!;
          if (done(m)) return events.slice(0, read);
        }
        if (isClosed) return events.slice(0, read);
        if (Date.now() > deadline) throw new Error(`timed out after ${events.length} events`);
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
    send: (message) => socket.send(JSON.stringify(message)),
    close: () => socket.close(1000),
  };
}

/** The HTTP status a WebSocket handshake gets (101 when accepted), and the body of a refusal. */
export function handshakeStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws/, 'http'), {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve({ status: 101, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
