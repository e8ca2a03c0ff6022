const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(': heartbeat\n\n');

export interface SseChannelOptions {
  /** A comment line is sent this often so that proxies and clients see the connection is alive. */
  heartbeatIntervalMs: number;
  /** Sent once as the `retry:` field: how long a browser `EventSource` waits before reconnecting. */
  retryMs?: number | undefined;
  /** Frames queued for a slow client before the writer waits. Default 64. */
  highWaterMark?: number | undefined;
  /** Called once when the client goes away or the channel is closed. */
  onClose?: (() => void) | undefined;
}

/**
 * One Server-Sent Events response body: frames are queued on a `ReadableStream` that the HTTP
 * server drains at the client's pace (`writable()` waits while the client lags), a heartbeat
 * comment goes out every `heartbeatIntervalMs`, and `signal` aborts when the client
 * disconnects or the channel is closed. Closing the channel never touches the job.
 */
export class SseChannel {
  readonly body: ReadableStream<Uint8Array>;
  readonly #abort = new AbortController();
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #wake: (() => void) | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #onClose: (() => void) | undefined;

  constructor(options: SseChannelOptions) {
    this.#onClose = options.onClose;
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
    this.#controller.enqueue(encoder.encode(options.retryMs !== undefined ? `retry: ${options.retryMs}\n\n` : ': open\n\n'));
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

  send(frame: Uint8Array | string): void {
    if (this.closed) return;
    try {
      this.#controller.enqueue(typeof frame === 'string' ? encoder.encode(frame) : frame);
    } catch {
      this.#finish(false);
    }
  }

  /** Resolves `true` once the client has room for more frames, `false` if the channel closed. */
  async writable(): Promise<boolean> {
    while (!this.closed && (this.#controller.desiredSize ?? 0) <= 0) {
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

  #release(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #finish(closeBody: boolean): void {
    if (this.closed) return;
    clearInterval(this.#heartbeat);
    this.#abort.abort();
    if (closeBody) {
      try {
        this.#controller.close();
      } catch {
        // Already cancelled by the client.
      }
    }
    this.#release();
    const onClose = this.#onClose;
    this.#onClose = undefined;
    onClose?.();
  }
}
