import { InvalidArgumentError } from '@baton/llm-client';
import { parseSignal, SignalChannel, type Signal, type SignalHandler, type Unsubscribe } from '@baton/agent-runtime';
import type { BatonDatabase, PostgresConnectionOptions } from '../database.js';
import { MAX_NOTIFY_PAYLOAD_BYTES, physicalChannel } from '../notifications/channel-names.js';
import { StoreContext } from '../store-context.js';
import { sameDatabase } from '../events/event-outbox.js';

export interface PostgresSignalChannelOptions extends PostgresConnectionOptions {
  /** Called when a handler throws or rejects, or a received payload does not parse (default: ignored). */
  onHandlerError?: ((error: unknown, channel: string) => void) | undefined;
}

interface Envelope {
  c: string;
  s: unknown;
}

/**
 * `SignalChannel` over Postgres LISTEN/NOTIFY (on PGlite, its own notifications within the
 * process). `publish` is one `pg_notify` statement: it reaches every process listening on the
 * database once it commits; subscribers in this process get it the same way. Delivery is best
 * effort, as the port says: a notification sent while a listener reconnects is lost. Needs no
 * tables, so it never migrates.
 */
export class PostgresSignalChannel extends SignalChannel {
  private readonly ctx: StoreContext;
  private readonly onHandlerError: (error: unknown, channel: string) => void;

  constructor(options: PostgresSignalChannelOptions) {
    super();
    this.ctx = new StoreContext(options);
    if (!this.ctx.database.client.listen) throw new InvalidArgumentError('client', 'the SQL client does not support LISTEN (no listen method)');
    this.onHandlerError = options.onHandlerError ?? (() => {});
  }

  override async close(): Promise<void> {
    await this.ctx.close();
  }

  async publish(channel: string, signal: Signal): Promise<void> {
    const n = this.notification(channel, signal);
    await this.ctx.database.client.query('SELECT pg_notify($1, $2)', [n.channel, n.payload]);
  }

  /**
   * Internal to this package: the `pg_notify` arguments of a signal (validated as `publish`
   * does), for a statement of another store on `database` that sends it with its own write.
   */
  notification(channel: string, signal: Signal): { channel: string; payload: string; database: BatonDatabase } {
    checkChannel(channel);
    const parsed = parseSignal(signal);
    const payload = JSON.stringify({ c: channel, s: parsed } satisfies Envelope);
    if (Buffer.byteLength(payload, 'utf8') > MAX_NOTIFY_PAYLOAD_BYTES) {
      throw new InvalidArgumentError('signal', `too large for a Postgres notification (${MAX_NOTIFY_PAYLOAD_BYTES} bytes at most); signals are wake-ups, keep data small`);
    }
    return { channel: physicalChannel(this.ctx.database.schema, channel), payload, database: this.ctx.database };
  }

  async subscribe(channel: string, handler: SignalHandler): Promise<Unsubscribe> {
    checkChannel(channel);
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', 'must be a function');
    const listen = this.ctx.database.client.listen;
    if (!listen) throw new InvalidArgumentError('client', 'the SQL client does not support LISTEN');
    let active = true;
    const unlisten = await listen.call(this.ctx.database.client, physicalChannel(this.ctx.database.schema, channel), (payload) => {
      if (!active) return;
      let signal: Signal;
      try {
        const envelope = JSON.parse(payload) as Envelope;
        if (envelope.c !== channel) return;
        signal = parseSignal(envelope.s);
      } catch (error) {
        this.onHandlerError(error, channel);
        return;
      }
      queueMicrotask(() => {
        if (!active) return;
        try {
          Promise.resolve(handler(signal)).catch((error: unknown) => this.onHandlerError(error, channel));
        } catch (error) {
          this.onHandlerError(error, channel);
        }
      });
    });
    return async () => {
      if (!active) return;
      active = false;
      await unlisten();
    };
  }
}

function checkChannel(channel: string): void {
  if (typeof channel !== 'string' || channel.length === 0) throw new InvalidArgumentError('channel', 'must be a non-empty string');
}

/**
 * Internal to this package: the `pg_notify` arguments of a wake-up that a statement on `database`
 * can send with its own write, when its channel is a `PostgresSignalChannel` there; `undefined`
 * for another channel, another database, or a signal the channel refuses. The caller then
 * publishes it apart, where an error is reported as for any signal.
 */
export function notificationOn(database: BatonDatabase, wake: { channels: SignalChannel; channel: string; signal: Signal } | undefined): { channel: string; payload: string } | undefined {
  if (wake === undefined || !(wake.channels instanceof PostgresSignalChannel)) return undefined;
  let notification: ReturnType<PostgresSignalChannel['notification']>;
  try {
    notification = wake.channels.notification(wake.channel, wake.signal);
  } catch {
    return undefined;
  }
  return sameDatabase(notification.database, database) ? notification : undefined;
}
