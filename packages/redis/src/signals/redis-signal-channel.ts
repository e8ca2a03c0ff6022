import { InvalidArgumentError } from '@baton/llm-client';
import { parseSignal, SignalChannel, type Signal, type SignalHandler, type Unsubscribe } from '@baton/agent-runtime';
import type { Redis } from 'ioredis';
import { RedisConnection, type RedisConnectionOptions } from '../connection/redis-connection.js';
import { mapRedisError } from '../errors/map-redis-error.js';

export interface RedisSignalChannelOptions extends RedisConnectionOptions {
  /**
   * Prepended to every channel name on Redis (default none: the runtime's names already start
   * with `baton:`). Pub/sub is not scoped by database number, so apps sharing a server can
   * separate their signals with a prefix.
   */
  readonly channelPrefix?: string | undefined;
  /** Called when a handler throws or rejects, or a received payload is not a valid signal (default: ignored). */
  readonly onHandlerError?: ((error: unknown, channel: string) => void) | undefined;
}

interface Subscription {
  readonly handler: SignalHandler;
  active: boolean;
}

interface ChannelState {
  readonly subs: Set<Subscription>;
  /** Whether Redis has confirmed our SUBSCRIBE (and no UNSUBSCRIBE since). */
  subscribed: boolean;
  /** SUBSCRIBE/UNSUBSCRIBE of this channel, one at a time, in call order. */
  chain: Promise<void>;
}

/**
 * `SignalChannel` over Redis pub/sub. `publish` is one `PUBLISH` on the command connection;
 * subscriptions share one subscriber connection (opened on the first `subscribe`), with one
 * Redis `SUBSCRIBE` per channel however many handlers listen on it. Received payloads are
 * validated with the runtime's `parseSignal`.
 *
 * Delivery is at most once, as the port says: a signal published while the subscriber connection
 * is down is lost. ioredis reconnects and subscribes again to every channel on its own, so later
 * signals arrive; waiters re-read the store on a timer for the ones lost meanwhile.
 */
export class RedisSignalChannel extends SignalChannel {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #onHandlerError: (error: unknown, channel: string) => void;
  readonly #channels = new Map<string, ChannelState>();
  #subscriber: Redis | undefined;

  constructor(options: RedisSignalChannelOptions) {
    super();
    const prefix = options?.channelPrefix ?? '';
    if (typeof prefix !== 'string') throw new InvalidArgumentError('channelPrefix', 'must be a string');
    if (options.onHandlerError !== undefined && typeof options.onHandlerError !== 'function') throw new InvalidArgumentError('onHandlerError', 'must be a function');
    this.#prefix = prefix;
    this.#onHandlerError = options.onHandlerError ?? (() => {});
    this.#connection = new RedisConnection('RedisSignalChannel', options);
  }

  override async publish(channel: string, signal: Signal): Promise<void> {
    checkChannel(channel);
    const payload = JSON.stringify(parseSignal(signal));
    await this.#connection.run('signals.publish', (client) => client.publish(this.#prefix + channel, payload));
  }

  override async subscribe(channel: string, handler: SignalHandler): Promise<Unsubscribe> {
    checkChannel(channel);
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', 'must be a function');
    this.#connection.assertOpen();
    const physical = this.#prefix + channel;
    let state = this.#channels.get(physical);
    if (!state) this.#channels.set(physical, (state = { subs: new Set(), subscribed: false, chain: Promise.resolve() }));
    const sub: Subscription = { handler, active: true };
    state.subs.add(sub);
    try {
      await this.#sync(physical, state);
    } catch (error) {
      sub.active = false;
      state.subs.delete(sub);
      void this.#sync(physical, state).catch(() => {});
      throw error;
    }
    const current = state;
    return async () => {
      if (!sub.active) return;
      sub.active = false;
      current.subs.delete(sub);
      if (this.#connection.closed) return;
      await this.#sync(physical, current);
    };
  }

  /** Closes the subscriber connection and, when opened from a URL, the command connection. */
  override async close(): Promise<void> {
    for (const state of this.#channels.values()) for (const sub of state.subs) sub.active = false;
    this.#channels.clear();
    this.#subscriber = undefined;
    await this.#connection.close();
  }

  /** Makes Redis's subscription of `physical` match whether it has handlers; serialized per channel. */
  #sync(physical: string, state: ChannelState): Promise<void> {
    const step = async (): Promise<void> => {
      const wanted = state.subs.size > 0;
      if (wanted && !state.subscribed) {
        const subscriber = this.#subscriberConnection();
        await subscriber.subscribe(physical);
        state.subscribed = true;
      } else if (!wanted && state.subscribed) {
        await this.#subscriber?.unsubscribe(physical);
        state.subscribed = false;
      }
      // Forget the channel only once Redis has confirmed the UNSUBSCRIBE: a later subscribe then
      // starts a new state whose SUBSCRIBE is sent after it.
      if (!wanted && !state.subscribed && this.#channels.get(physical) === state) this.#channels.delete(physical);
    };
    const next = state.chain.then(step, step);
    state.chain = next.catch(() => {});
    return next.catch((error: unknown) => {
      throw mapRedisError(error, 'signals.subscribe');
    });
  }

  #subscriberConnection(): Redis {
    if (this.#subscriber) return this.#subscriber;
    const subscriber = this.#connection.openExtra('sub');
    subscriber.on('message', (channel: string, message: string) => this.#dispatch(channel, message));
    this.#subscriber = subscriber;
    return subscriber;
  }

  #dispatch(physical: string, message: string): void {
    const state = this.#channels.get(physical);
    if (!state || state.subs.size === 0) return;
    const channel = physical.slice(this.#prefix.length);
    let signal: Signal;
    try {
      signal = parseSignal(JSON.parse(message));
    } catch (error) {
      this.#report(error, channel);
      return;
    }
    let first = true;
    for (const sub of state.subs) {
      // Each handler gets its own copy, on a microtask: a handler never runs inside the socket
      // callback, and signals of one publisher keep their order.
      const copy = first ? signal : structuredClone(signal);
      first = false;
      queueMicrotask(() => {
        if (!sub.active) return;
        try {
          Promise.resolve(sub.handler(copy)).catch((error: unknown) => this.#report(error, channel));
        } catch (error) {
          this.#report(error, channel);
        }
      });
    }
  }

  #report(error: unknown, channel: string): void {
    try {
      this.#onHandlerError(error, channel);
    } catch {
      // Nowhere left to report to.
    }
  }
}

function checkChannel(channel: unknown): asserts channel is string {
  if (typeof channel !== 'string' || channel.length === 0) throw new InvalidArgumentError('channel', 'must be a non-empty string');
}
