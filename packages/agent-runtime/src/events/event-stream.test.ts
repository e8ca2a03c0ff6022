import { describe, expect, it } from 'vitest';
import { EventBus, type EventHandler, type ReplayOptions, type SubscribeOptions } from '../ports/event-bus.js';
import { InMemoryEventBus } from './in-memory-event-bus.js';
import type { RuntimeEvent, RuntimeEventInput } from './runtime-event.js';
import type { RuntimeEventType } from './runtime-event-type.js';

/** A bus whose replay answers late (as a remote one does), so live events overlap the replay. */
class SlowReplayBus extends EventBus {
  readonly inner = new InMemoryEventBus();
  onReplay: () => Promise<void> = async () => {};
  override publish<K extends RuntimeEventType>(event: RuntimeEventInput<K>): Promise<RuntimeEvent<K>> {
    return this.inner.publish(event);
  }
  override subscribe(handler: EventHandler, options?: SubscribeOptions) {
    return this.inner.subscribe(handler, options);
  }
  override async replay(options: ReplayOptions): Promise<readonly RuntimeEvent[]> {
    await this.onReplay();
    return this.inner.replay(options);
  }
}

const scopeId = 's';
const delta = (text: string): RuntimeEventInput<'model.delta'> => ({ type: 'model.delta', jobId: 'j', scopeId, data: { model: 'm', textDelta: text } });

describe('EventBus.stream (default implementation)', () => {
  it('skips live events that the replay already returned', async () => {
    const bus = new SlowReplayBus();
    await bus.publish(delta('1'));
    // Events published after the stream subscribed but before its replay read the history
    // arrive twice: in the replay and live.
    bus.onReplay = async () => {
      await bus.publish(delta('2'));
      await bus.publish(delta('3'));
    };
    const seen: number[] = [];
    const done = (async () => {
      for await (const e of bus.stream({ jobId: 'j', scopeId, fromSeq: 1, until: (x) => x.seq === 4 })) seen.push(e.seq);
    })();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await bus.publish(delta('4'));
    await done;
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('validates its options at once', () => {
    const bus = new InMemoryEventBus();
    expect(() => bus.stream({ jobId: 'j', fromSeq: 1 })).toThrow(/scopeId/);
    expect(() => bus.stream({ jobId: 'j', scopeId, fromSeq: 0 })).toThrow(/fromSeq/);
    expect(() => bus.stream({ maxBuffered: 0 })).toThrow(/maxBuffered/);
    expect(() => bus.stream({ overflow: 'block' as never })).toThrow(/overflow/);
  });

  it('unsubscribes when the consumer stops early', async () => {
    const bus = new SlowReplayBus();
    let active = 0;
    const subscribe = bus.subscribe.bind(bus);
    bus.subscribe = (handler, options) => {
      active++;
      const stop = subscribe(handler, options);
      return () => {
        active--;
        stop();
      };
    };
    for (let i = 0; i < 3; i++) await bus.publish(delta(String(i)));
    const seen: number[] = [];
    for await (const e of bus.stream({ jobId: 'j', scopeId, fromSeq: 1 })) {
      seen.push(e.seq);
      expect(active).toBe(1);
      if (e.seq === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect(active).toBe(0);
  });
});
