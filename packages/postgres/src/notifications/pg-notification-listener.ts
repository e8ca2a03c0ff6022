import type pg from 'pg';
import { quoteIdent } from '../sql/identifiers.js';
import { mapDriverError } from '../sql/driver-errors.js';
import type { ListenOptions, NotificationHandler } from '../sql/sql-client.js';

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2_000;

/**
 * LISTEN on one dedicated connection for every channel of a client. When the connection is
 * lost it reconnects with backoff and listens again on every channel. Notifications sent while it
 * was down are lost: signals are wake-ups, and waiters re-read the store; a listener that must
 * not miss any is told (`ListenOptions.onRelisten`) and reads what it missed.
 *
 * A pg client runs one statement at a time (pg 8 queues a second one with a deprecation
 * warning; pg 9 refuses it): LISTEN and UNLISTEN from concurrent callers go through one queue,
 * and a caller subscribing to a channel whose LISTEN is still in flight waits for that one.
 */
export class PgNotificationListener {
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  /** Per handler entry, what to call when its channel is listened to again on a new connection. */
  private readonly relisten = new WeakMap<NotificationHandler, () => void>();
  /** Set once a connection listened: a later one is a reconnection. */
  private connectedBefore = false;
  /** Per channel, its LISTEN on the current connection (in flight or done). */
  private readonly listened = new Map<string, Promise<void>>();
  /** The last statement queued on the connection: the next one starts when it has settled. */
  private tail: Promise<unknown> = Promise.resolve();
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly createClient: () => pg.Client) {}

  async listen(channel: string, handler: NotificationHandler, options: ListenOptions = {}): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    const entry: NotificationHandler = (payload) => handler(payload);
    if (options.onRelisten) this.relisten.set(entry, options.onRelisten);
    set.add(entry);
    try {
      const client = await this.connection();
      let ready = this.listened.get(channel);
      if (ready === undefined) {
        const pending = this.run(client, `LISTEN ${quoteIdent(channel)}`);
        this.listened.set(channel, pending);
        pending.catch(() => {
          if (this.listened.get(channel) === pending) this.listened.delete(channel);
        });
        ready = pending;
      }
      await ready;
    } catch (error) {
      set.delete(entry);
      if (set.size === 0) this.handlers.delete(channel);
      throw mapDriverError(error);
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      const current = this.handlers.get(channel);
      if (!current) return;
      current.delete(entry);
      if (current.size > 0) return;
      this.handlers.delete(channel);
      this.listened.delete(channel);
      if (this.client && !this.closed) await this.run(this.client, `UNLISTEN ${quoteIdent(channel)}`).catch(() => {});
    };
  }

  /** Opens the listening connection ahead of the first `listen` (a no-op once open or closed). */
  async warm(): Promise<void> {
    if (this.closed) return;
    await this.connection();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.handlers.clear();
    this.listened.clear();
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    const client = this.createClient();
    let lost = false;
    const onLost = (): void => {
      if (lost) return;
      lost = true;
      if (this.client === client) {
        this.client = undefined;
        this.listened.clear();
      }
      client.end().catch(() => {});
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (message) => {
      const set = this.handlers.get(message.channel);
      if (!set) return;
      for (const handler of [...set]) {
        try {
          handler(message.payload ?? '');
        } catch {
          // A handler's failure is its own; the listener keeps delivering.
        }
      }
    });
    try {
      await client.connect();
      // Not yet shared: only this loop uses the connection until it is handed out below.
      for (const channel of this.handlers.keys()) {
        await client.query(`LISTEN ${quoteIdent(channel)}`);
        this.listened.set(channel, Promise.resolve());
      }
    } catch (error) {
      lost = true;
      client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      throw new Error('listener closed');
    }
    this.client = client;
    this.retryMs = RETRY_MIN_MS;
    // Listening again after a lost connection: those who must not miss a notification catch up.
    if (this.connectedBefore) {
      for (const set of this.handlers.values()) {
        for (const entry of set) {
          try {
            this.relisten.get(entry)?.();
          } catch {
            // Its own failure.
          }
        }
      }
    }
    this.connectedBefore = true;
    return client;
  }

  /** Runs a statement on the connection after every statement queued before it. */
  private run(client: pg.Client, text: string): Promise<void> {
    const done = this.tail.then(() => client.query(text)).then(() => undefined);
    this.tail = done.catch(() => undefined);
    return done;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.handlers.size === 0 || this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connection().catch(() => this.scheduleReconnect());
    }, delay);
    this.retryTimer.unref();
  }
}
