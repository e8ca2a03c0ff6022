import type { EventChannel } from './event-channel.js';
import { sseFrame } from './sse-frame.js';

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(': heartbeat\n\n');

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/** The part of Node's `http.ServerResponse` a channel writes to. */
export interface NodeResponseLike {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array | string): boolean;
  end(): unknown;
  on(event: 'close' | 'drain', listener: () => void): unknown;
  off(event: 'close' | 'drain', listener: () => void): unknown;
  flushHeaders?(): void;
  readonly writableNeedDrain: boolean;
  readonly destroyed: boolean;
}

export interface SseChannelOptions {
  /** A comment line is sent this often so that proxies and clients see the connection is alive. */
  heartbeatIntervalMs: number;
  /** Sent once as the `retry:` field: how long a browser `EventSource` waits before reconnecting. */
  retryMs?: number | undefined;
  /** Frames queued for a slow client (web-stream mode) before the writer waits. Default 64. */
  highWaterMark?: number | undefined;
  /**
   * Write straight to this Node response (the server's own `listen()`): one socket write per
   * frame and nothing in between. Without it the channel exposes `body`, a `ReadableStream`,
   * for any fetch-based host.
   */
  nodeResponse?: NodeResponseLike | undefined;
  /** More response headers (Node mode), e.g. what a CORS middleware set before the route ran. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Called once when the client goes away or the channel is closed. */
  onClose?: (() => void) | undefined;
}

/**
 * One Server-Sent Events response: frames go out at the client's pace (`writable()` waits while
 * the client lags), a heartbeat comment goes out every `heartbeatIntervalMs`, and `signal`
 * aborts when the client disconnects or the channel is closed. Closing the channel never
 * touches the job.
 */
export class SseChannel implements EventChannel {
  /** The response body (web-stream mode only). */
  readonly body: ReadableStream<Uint8Array> | undefined;
  readonly #abort = new AbortController();
  readonly #node: NodeResponseLike | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #wake: (() => void) | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #onClose: (() => void) | undefined;

  constructor(options: SseChannelOptions) {
    this.#onClose = options.onClose;
    const first = encoder.encode(options.retryMs !== undefined ? `retry: ${options.retryMs}\n\n` : ': open\n\n');
    this.#node = options.nodeResponse;
    if (this.#node) {
      const res = this.#node;
      const release = (): void => this.#release();
      const gone = (): void => {
        res.off('drain', release);
        this.#finish(false);
      };
      res.on('drain', release);
      res.on('close', gone);
      res.writeHead(200, { ...options.headers, ...SSE_HEADERS });
      res.write(first);
    } else {
      this.body = new ReadableStream<Uint8Array>(
        {
          start: (controller) => {
            this.#controller = controller;
          },
          pull: () => this.#release(),
          cancel: () => this.#finish(false),
        },
        new CountQueuingStrategy({ highWaterMark: options.highWaterMark ?? 64 }),
      );
      // A first line at once: headers and bytes reach the client before the first event exists.
      this.#controller!.enqueue(first);
    }
    this.#heartbeat = setInterval(() => this.send(HEARTBEAT), options.heartbeatIntervalMs);
    this.#heartbeat.unref?.();
  }

  /** Aborted when the client has gone or the channel was closed. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  message(id: string | undefined, event: string, data: string): void {
    this.send(sseFrame(id, event, data));
  }

  send(frame: Uint8Array | string): void {
    if (this.closed) return;
    try {
      if (this.#node) this.#node.write(frame);
      else this.#controller!.enqueue(typeof frame === 'string' ? encoder.encode(frame) : frame);
    } catch {
      this.#finish(false);
    }
  }

  /** Resolves `true` once the client has room for more frames, `false` if the channel closed. */
  async writable(): Promise<boolean> {
    while (!this.closed && this.#full()) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    return !this.closed;
  }

  /** Ends the response after the frames already queued. */
  close(): void {
    this.#finish(true);
  }

  #full(): boolean {
    return this.#node ? this.#node.writableNeedDrain : (this.#controller!.desiredSize ?? 0) <= 0;
  }

  #release(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #finish(endBody: boolean): void {
    if (this.closed) return;
    clearInterval(this.#heartbeat);
    this.#abort.abort();
    if (endBody) {
      try {
        if (this.#node) {
          if (!this.#node.destroyed) this.#node.end();
        } else {
          this.#controller!.close();
        }
      } catch {
        // Already gone.
      }
    }
    this.#release();
    const onClose = this.#onClose;
    this.#onClose = undefined;
    onClose?.();
  }
}
