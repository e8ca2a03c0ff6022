import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

const UPGRADE = Symbol.for('baton.server.wsUpgrade');

/** Handed to a route through the fetch `env`: accepting completes the WebSocket handshake. */
export interface WsUpgrade {
  /** Completes the handshake and calls `onOpen`; `onAbort` runs instead when the handshake fails. */
  accept(onOpen: (ws: WebSocket) => void, onAbort: () => void): void;
}

/** The upgrade offered to this request, if it came in as a WebSocket handshake. */
export function wsUpgradeOf(env: unknown): WsUpgrade | undefined {
  return (env as { [UPGRADE]?: WsUpgrade } | undefined)?.[UPGRADE];
}

/**
 * Runs an HTTP upgrade request through the fetch handler (routing, `authenticate`, validation,
 * stream limit): a route that accepts it gets the socket; any other answer (401, 404, 429 …) is
 * written to the socket as a plain HTTP response and the connection closed.
 */
export function createUpgradeHandler(fetch: (request: Request, env: unknown) => Response | Promise<Response>, onError: (error: unknown) => void) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const handle = (incoming: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    let accepted = false;
    const upgrade: WsUpgrade = {
      accept: (onOpen, onAbort) => {
        accepted = true;
        let opened = false;
        socket.once('close', () => {
          if (!opened) onAbort();
        });
        wss.handleUpgrade(incoming, socket, head, (ws) => {
          opened = true;
          onOpen(ws);
        });
      },
    };
    void (async () => {
      const response = await fetch(toRequest(incoming), { incoming, [UPGRADE]: upgrade });
      if (accepted) return;
      await refuse(socket, response);
    })().catch((error: unknown) => {
      onError(error);
      socket.destroy();
    });
  };
  return { handle, close: () => wss.close() };
}

function toRequest(incoming: IncomingMessage): Request {
  const headers = new Headers();
  for (const [key, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
  }
  const host = incoming.headers.host ?? 'localhost';
  return new Request(new URL(incoming.url ?? '/', `http://${host}`), { method: incoming.method ?? 'GET', headers });
}

async function refuse(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  if (socket.destroyed) return;
  const status = response.status === 204 || response.status < 400 ? 400 : response.status;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  response.headers.forEach((value, key) => {
    if (key !== 'content-length' && key !== 'connection' && key !== 'transfer-encoding') head += `${key}: ${value}\r\n`;
  });
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head), body]));
}
