import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { backoffDelayMs } from './backoff.js';
import { EventSourceHttpError, HeartbeatTimeoutError, InvalidEventSourceOptionError, ReconnectFailedError } from './client-errors.js';
import type { BatonMessage, ConnectionState, StateChange } from './connection-state.js';

type HeadersSource = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

export interface BatonEventSourceOptions {
  /** Sent with every request (credentials, scope); a function is called before each connection. */
  headers?: HeadersSource;
  /** `fetch` credentials mode in browsers (`include` for cookies across origins). */
  credentials?: RequestCredentials;
  /** Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Start after this event id (as if it had been received). */
  lastEventId?: string;
  /** How the last event id travels when reconnecting: the `Last-Event-ID` header (default) or `?lastEventId=`. */
  lastEventIdIn?: 'header' | 'query';
  /** Reconnection attempts after a lost connection before giving up. Default 10. */
  maxRetries?: number;
  /** First reconnection delay; doubles per attempt, with jitter. Default 3,000 ms. */
  retryBaseMs?: number;
  /** Longest reconnection delay. Default 60,000 ms. */
  retryMaxMs?: number;
  /**
   * A connection silent for this long (no event, no heartbeat comment) is taken as dead and
   * replaced. Keep it above the server's heartbeat interval (15 s by default). Default 45,000 ms; 0 turns it off.
   */
  heartbeatTimeoutMs?: number;
  /** Called with every message, whatever its type. */
  onMessage?: (message: BatonMessage) => void;
  /** Closes the source after a message for which this returns true (e.g. a job's terminal event). */
  closeWhen?: (message: BatonMessage) => boolean;
  /** Jitter source; default `Math.random`. */
  random?: () => number;
}

/**
 * A Server-Sent Events client for Baton streams, in browsers and Node ≥ 22 (fetch +
 * `eventsource-parser`), that keeps a stream going over bad networks:
 *
 * - reconnects with exponential backoff and jitter (10 attempts, 3 s base by default; the count
 *   starts over after each successful connection), at once when the server ended a stream that
 *   had delivered events;
 * - treats a connection silent past `heartbeatTimeoutMs` as dead and reconnects;
 * - resumes after the last event id received (`Last-Event-ID`), so nothing is lost or repeated;
 * - reports its state (`connecting`, `open`, `reconnecting`, `closed`) through `state` and a
 *   `statechange` event; a 204 from the server (nothing more to send) closes it for good.
 *
 * Messages are dispatched as `MessageEvent`s named after their SSE event type (`model.delta`,
 * `job.completed`; `message` when untyped), like `EventSource`; `on(type, fn)` is shorthand and
 * `on('*', fn)` receives all. `open` and `error` events mirror `EventSource`'s.
 */
export class BatonEventSource extends EventTarget {
  readonly url: string;
  #state: ConnectionState = 'connecting';
  #lastEventId: string | undefined;
  #attempt = 0;
  #closed = false;
  #connection: AbortController | undefined;
  #heartbeatExpired = false;
  #messagesThisConnection = 0;
  #lastDataAt = 0;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #wakeSleep: (() => void) | undefined;
  readonly #all = new Set<(message: BatonMessage) => void>();
  readonly #options: Required<Pick<BatonEventSourceOptions, 'maxRetries' | 'retryBaseMs' | 'retryMaxMs' | 'heartbeatTimeoutMs' | 'lastEventIdIn'>> & BatonEventSourceOptions;
  readonly #fetch: typeof globalThis.fetch;

  constructor(url: string | URL, options: BatonEventSourceOptions = {}) {
    super();
    this.url = String(url);
    this.#options = {
      ...options,
      maxRetries: nonNegativeInt(options.maxRetries ?? 10, 'maxRetries'),
      retryBaseMs: nonNegativeInt(options.retryBaseMs ?? 3_000, 'retryBaseMs'),
      retryMaxMs: nonNegativeInt(options.retryMaxMs ?? 60_000, 'retryMaxMs'),
      heartbeatTimeoutMs: nonNegativeInt(options.heartbeatTimeoutMs ?? 45_000, 'heartbeatTimeoutMs'),
      lastEventIdIn: options.lastEventIdIn ?? 'header',
    };
    if (this.#options.lastEventIdIn !== 'header' && this.#options.lastEventIdIn !== 'query') throw new InvalidEventSourceOptionError('lastEventIdIn', "must be 'header' or 'query'");
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new InvalidEventSourceOptionError('fetch', 'no fetch implementation available');
    this.#fetch = fetchImpl.bind(globalThis);
    this.#lastEventId = options.lastEventId;
    void this.#run();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The id of the last event received (sent back on reconnection). */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** Reconnection attempts since the last successful connection. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Listens to messages of one SSE event type, or all with `'*'`; returns the unsubscribe function. */
  on(type: string, listener: (message: BatonMessage) => void): () => void {
    if (type === '*') {
      this.#all.add(listener);
      return () => this.#all.delete(listener);
    }
    const handler = (event: Event): void => {
      if (event instanceof BatonMessageEvent) listener(event.message);
    };
    this.addEventListener(type, handler);
    return () => this.removeEventListener(type, handler);
  }

  /** Listens to state changes; returns the unsubscribe function. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    const handler = (event: Event): void => listener((event as CustomEvent<StateChange>).detail);
    this.addEventListener('statechange', handler);
    return () => this.removeEventListener('statechange', handler);
  }

  /** Closes the connection for good (the job or session on the server goes on). */
  close(): void {
    this.#finish(undefined);
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      let failure: unknown;
      let done = false;
      try {
        done = await this.#connectOnce();
      } catch (error) {
        failure = this.#heartbeatExpired ? new HeartbeatTimeoutError(this.#options.heartbeatTimeoutMs) : error;
      } finally {
        clearTimeout(this.#heartbeatTimer);
        this.#connection?.abort();
        this.#connection = undefined;
      }
      if (this.#closed) return;
      if (done) return this.#finish(undefined);
      if (failure !== undefined) {
        this.dispatchEvent(new CustomEvent('error', { detail: failure }));
        if (failure instanceof EventSourceHttpError && !failure.retryable) return this.#finish(failure);
      }
      if (this.#closed) return;
      this.#attempt++;
      if (this.#attempt > this.#options.maxRetries) return this.#finish(new ReconnectFailedError(this.#attempt - 1, failure));
      const immediate = failure === undefined && this.#messagesThisConnection > 0;
      const delayMs = immediate ? 0 : backoffDelayMs(this.#attempt, { baseMs: this.#options.retryBaseMs, maxMs: this.#options.retryMaxMs, random: this.#options.random ?? Math.random });
      this.#setState('reconnecting', { delayMs, error: failure });
      await this.#sleep(delayMs);
    }
  }

  /** One connection: resolves `true` when the server says the stream is over (204), `false` when it ended it. */
  async #connectOnce(): Promise<boolean> {
    const connection = new AbortController();
    this.#connection = connection;
    this.#heartbeatExpired = false;
    this.#messagesThisConnection = 0;
    const headers = new Headers(typeof this.#options.headers === 'function' ? await this.#options.headers() : this.#options.headers);
    headers.set('accept', 'text/event-stream');
    headers.set('cache-control', 'no-cache');
    let url = this.url;
    if (this.#lastEventId !== undefined && this.#lastEventId !== '') {
      if (this.#options.lastEventIdIn === 'header') {
        headers.set('last-event-id', this.#lastEventId);
      } else {
        const u = new URL(this.url, (globalThis as { location?: { href: string } }).location?.href);
        u.searchParams.set('lastEventId', this.#lastEventId);
        url = u.toString();
      }
    }
    this.#armHeartbeat(connection);
    const response = await this.#fetch(url, { headers, signal: connection.signal, cache: 'no-store', ...(this.#options.credentials ? { credentials: this.#options.credentials } : {}) });
    if (response.status === 204) return true;
    if (!response.ok) throw await httpError(response);
    const type = response.headers.get('content-type') ?? '';
    if (!type.toLowerCase().startsWith('text/event-stream')) {
      await response.body?.cancel().catch(() => {});
      throw new EventSourceHttpError(response.status, `expected text/event-stream, got '${type}'`);
    }
    if (!response.body) throw new EventSourceHttpError(response.status, 'response has no body');
    this.#attempt = 0;
    this.#setState('open');
    this.dispatchEvent(new Event('open'));
    const parser = createParser({
      onEvent: (message) => this.#deliver(message),
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return false;
        this.#lastDataAt = Date.now();
        parser.feed(value);
        if (this.#closed || connection.signal.aborted) return false;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  #deliver(raw: EventSourceMessage): void {
    if (this.#closed) return;
    if (raw.id !== undefined) this.#lastEventId = raw.id === '' ? undefined : raw.id;
    this.#messagesThisConnection++;
    const message: BatonMessage = { id: raw.id, event: raw.event ?? 'message', data: raw.data };
    this.dispatchEvent(new BatonMessageEvent(message, this.#lastEventId ?? ''));
    this.#options.onMessage?.(message);
    for (const listener of this.#all) listener(message);
    if (this.#options.closeWhen?.(message)) this.close();
  }

  #armHeartbeat(connection: AbortController): void {
    const timeoutMs = this.#options.heartbeatTimeoutMs;
    if (timeoutMs === 0) return;
    this.#lastDataAt = Date.now();
    const check = (): void => {
      const silentMs = Date.now() - this.#lastDataAt;
      if (silentMs >= timeoutMs) {
        this.#heartbeatExpired = true;
        connection.abort(new HeartbeatTimeoutError(timeoutMs));
        return;
      }
      this.#heartbeatTimer = setTimeout(check, timeoutMs - silentMs);
    };
    clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = setTimeout(check, timeoutMs);
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeSleep = undefined;
        resolve();
      }, ms);
      this.#wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #setState(state: ConnectionState, extra: { delayMs?: number; error?: unknown } = {}): void {
    const previous = this.#state;
    if (previous === state && state !== 'reconnecting') return;
    this.#state = state;
    const detail: StateChange = { state, previous, attempt: this.#attempt, ...(extra.delayMs !== undefined ? { delayMs: extra.delayMs } : {}), ...(extra.error !== undefined ? { error: extra.error } : {}) };
    this.dispatchEvent(new CustomEvent<StateChange>('statechange', { detail }));
  }

  #finish(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#heartbeatTimer);
    this.#connection?.abort();
    this.#wakeSleep?.();
    this.#setState('closed', error === undefined ? {} : { error });
  }
}

/** The `MessageEvent` a `BatonEventSource` dispatches; `message` is what the server sent (its own `id`, if any). */
export class BatonMessageEvent extends MessageEvent<string> {
  readonly message: BatonMessage;

  constructor(message: BatonMessage, lastEventId: string) {
    super(message.event, { data: message.data, lastEventId });
    this.message = message;
  }
}

async function httpError(response: Response): Promise<EventSourceHttpError> {
  let message = response.statusText || 'error';
  let code: string | undefined;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.message === 'string') message = body.error.message;
    if (typeof body.error?.code === 'string') code = body.error.code;
  } catch {
    // Not a Baton error body.
  }
  return new EventSourceHttpError(response.status, message, code);
}

function nonNegativeInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new InvalidEventSourceOptionError(name, 'must be an integer ≥ 0');
  return value;
}
