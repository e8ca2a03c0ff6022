import { parseSignal, SignalChannel, type Signal, type SignalHandler, type Unsubscribe } from '../ports/signal-channel.js';

export interface InMemorySignalChannelOptions {
  /** Called when a handler throws or rejects (default: ignored; handlers must not break publishers). */
  onHandlerError?: (error: unknown, channel: string) => void;
}

interface Subscription {
  handler: SignalHandler;
  active: boolean;
}

/**
 * `SignalChannel` within one process. Publishing validates the signal and hands each current
 * subscriber its own copy on a microtask, so a publisher never runs subscriber code inline.
 */
export class InMemorySignalChannel extends SignalChannel {
  private readonly channels = new Map<string, Set<Subscription>>();
  private readonly onHandlerError: (error: unknown, channel: string) => void;

  constructor(options: InMemorySignalChannelOptions = {}) {
    super();
    this.onHandlerError = options.onHandlerError ?? (() => {});
  }

  async publish(channel: string, signal: Signal): Promise<void> {
    const parsed = parseSignal(signal);
    const subs = this.channels.get(channel);
    if (!subs) return;
    for (const sub of [...subs]) {
      const copy = structuredClone(parsed);
      queueMicrotask(() => {
        if (!sub.active) return;
        try {
          Promise.resolve(sub.handler(copy)).catch((error: unknown) => this.onHandlerError(error, channel));
        } catch (error) {
          this.onHandlerError(error, channel);
        }
      });
    }
  }

  async subscribe(channel: string, handler: SignalHandler): Promise<Unsubscribe> {
    const sub: Subscription = { handler, active: true };
    let subs = this.channels.get(channel);
    if (!subs) this.channels.set(channel, (subs = new Set()));
    subs.add(sub);
    return async () => {
      sub.active = false;
      const set = this.channels.get(channel);
      if (!set) return;
      set.delete(sub);
      if (set.size === 0) this.channels.delete(channel);
    };
  }

  /** Number of live subscriptions on `channel` (for tests and leak checks). */
  subscriberCount(channel: string): number {
    return this.channels.get(channel)?.size ?? 0;
  }
}
