import type { WebSocket } from 'ws';
import type { EventChannel } from '../sse/event-channel.js';

/** Close codes the server uses (4000–4999 are the application's). */
export const WS_CLOSE = {
  /** The job or session stream ended normally, or the server is closing. */
  normal: 1000,
  goingAway: 1001,
  /** A client message that is not JSON `{ type, … }`, or a malformed `lastEventId`. */
  badRequest: 4400,
  /** `resume` named no job of the caller's scope. */
  notFound: 4404,
  /** No `pong` within two heartbeat intervals. */
  heartbeatTimeout: 4408,
} as const;

export interface WsChannelOptions {
  /** `{ "type": "ping" }` goes out this often; no `pong` within two intervals closes the socket. */
  heartbeatIntervalMs: number;
  /** Sends not yet flushed to the socket before `writable()` waits. Default 64. */
  highWaterMark?: number;
  /** Called once when the socket closes or the channel is closed. */
  onClose?: () => void;
  /** Client messages other than `ping` and `pong`, parsed. */
  onMessage?: (message: { type: string; [key: string]: unknown }) => void;
}

/**
 * One WebSocket carrying a stream: each message is JSON `{ id?, event, data }` (`data` the event
 * itself), plus `{ "type": "ping" }` / `{ "type": "pong" }` both ways. Closing it never touches a job.
 */
export class WsChannel implements EventChannel {
  readonly #ws: WebSocket;
  readonly #abort = new AbortController();
  readonly #highWaterMark: number;
  #inFlight = 0;
  #wake: (() => void) | undefined;
  #unanswered = 0;
  #heartbeat: ReturnType<typeof setInterval>;
  #kill: ReturnType<typeof setTimeout> | undefined;
  #onClose: (() => void) | undefined;

  constructor(ws: WebSocket, options: WsChannelOptions) {
    this.#ws = ws;
    this.#highWaterMark = options.highWaterMark ?? 64;
    this.#onClose = options.onClose;
    ws.on('close', () => this.#finish());
    ws.on('error', () => this.#finish());
    ws.on('message', (raw, isBinary) => {
      const message = isBinary ? undefined : parseClientMessage(raw.toString());
      if (message === undefined) {
        this.close(WS_CLOSE.badRequest, 'messages are JSON objects with a string `type`');
        return;
      }
      if (message.type === 'pong') this.#unanswered = 0;
      else if (message.type === 'ping') this.#sendRaw('{"type":"pong"}');
      else options.onMessage?.(message);
    });
    this.#heartbeat = setInterval(() => {
      if (this.#unanswered >= 2) {
        this.close(WS_CLOSE.heartbeatTimeout, 'no pong within two heartbeat intervals');
        return;
      }
      this.#unanswered++;
      this.#sendRaw('{"type":"ping"}');
    }, options.heartbeatIntervalMs);
    this.#heartbeat.unref?.();
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  message(id: string | undefined, event: string, data: string): void {
    this.#sendRaw(`{${id === undefined ? '' : `"id":${JSON.stringify(id)},`}"event":${JSON.stringify(event)},"data":${data}}`);
  }

  async writable(): Promise<boolean> {
    while (!this.closed && this.#inFlight >= this.#highWaterMark) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    return !this.closed;
  }

  /** Sends a close frame; a peer that does not answer it is cut off after a second. */
  close(code: number = WS_CLOSE.normal, reason = ''): void {
    if (this.closed) return;
    try {
      this.#ws.close(code, reason);
    } catch {
      // Already gone.
    }
    this.#kill = setTimeout(() => this.#ws.terminate(), 1_000);
    this.#kill.unref?.();
    this.#finish();
  }

  #sendRaw(text: string): void {
    if (this.closed || this.#ws.readyState !== this.#ws.OPEN) return;
    this.#inFlight++;
    this.#ws.send(text, () => {
      this.#inFlight--;
      this.#release();
    });
  }

  #release(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #finish(): void {
    if (this.#ws.readyState === this.#ws.CLOSED && this.#kill !== undefined) clearTimeout(this.#kill);
    if (this.closed) return;
    clearInterval(this.#heartbeat);
    this.#abort.abort();
    this.#release();
    const onClose = this.#onClose;
    this.#onClose = undefined;
    onClose?.();
  }
}

function parseClientMessage(text: string): { type: string; [key: string]: unknown } | undefined {
  if (text.length > 16_384) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string') {
      return value as { type: string; [key: string]: unknown };
    }
  } catch {
    // Not JSON.
  }
  return undefined;
}
