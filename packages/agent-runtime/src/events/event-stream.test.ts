import { describe, expect, it } from 'vitest';
import { EventBus, type EventHandler, type ReplayOptions, type SubscribeOptions } from '../ports/event-bus.js';
import { LossyEventBus } from '../testing/lossy-event-bus.js';
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

  it('reads the history only once the bus hears other processes, so nothing published before that is lost', async () => {
    let listen!: () => void;
    const bus = new LossyEventBus({ listening: new Promise((r) => (listen = r)) });
    const seen: number[] = [];
    const done = (async () => {
      for await (const e of bus.stream({ jobId: 'j', scopeId, fromSeq: 1, until: (x) => x.seq === 2 })) seen.push(e.seq);
    })();
    await new Promise((r) => setTimeout(r, 5));
    // Published before the bus listens: never delivered live.
    await bus.publish(delta('a'));
    await bus.publish(delta('b'));
    listen();
    await done;
    expect(seen).toEqual([1, 2]);
  });

  it('fills a hole in the seqs of live events from the history', async () => {
    const bus = new LossyEventBus();
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of bus.stream({ jobId: 'j', scopeId, fromSeq: 1, until: (x) => x.seq === 4 })) seen.push(`${e.seq}:${(e.data as { textDelta: string }).textDelta}`);
    })();
    await new Promise((r) => setTimeout(r, 5));
    const events = [];
    for (const t of ['a', 'b', 'c', 'd']) events.push(await bus.publish(delta(t)));
    // 2 and 3 were lost on the way: 4 arrives after 1.
    bus.deliver(events[0]!);
    bus.deliver(events[3]!);
    await done;
    expect(seen).toEqual(['1:a', '2:b', '3:c', '4:d']);
  });

  it('reads the history again when the bus says it may have missed events (onResync)', async () => {
    const bus = new LossyEventBus();
    const seen: number[] = [];
    const done = (async () => {
      for await (const e of bus.stream({ jobId: 'j', scopeId, fromSeq: 1, until: (x) => x.type === 'job.completed' })) seen.push(e.seq);
    })();
    await new Promise((r) => setTimeout(r, 5));
    bus.deliver(await bus.publish(delta('a')));
    // The last events were published while the bus's connection was down: only a resync brings them.
    await bus.publish(delta('b'));
    await bus.publish({ type: 'job.completed', jobId: 'j', scopeId, data: { from: 'running' } });
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([1]);
    bus.resync();
    await done;
    expect(seen).toEqual([1, 2, 3]);
  });

  it('with drop-oldest, reports the holes its subscriber dropped instead of reading them back', async () => {
    const bus = new LossyEventBus();
    const gaps: unknown[] = [];
    const seen: number[] = [];
    const done = (async () => {
      for await (const e of bus.stream({ jobId: 'j', scopeId, fromSeq: 1, overflow: 'drop-oldest', onGap: (g) => gaps.push(g), until: (x) => x.seq === 3 })) seen.push(e.seq);
    })();
    await new Promise((r) => setTimeout(r, 5));
    const events = [];
    for (const t of ['a', 'b', 'c']) events.push(await bus.publish(delta(t)));
    bus.deliver(events[0]!);
    bus.deliver(events[2]!);
    await done;
    expect(seen).toEqual([1, 3]);
    expect(gaps).toEqual([{ dropped: 1, first: { jobId: 'j', seq: 2 }, last: { jobId: 'j', seq: 2 } }]);
  });
});
