import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import type { RuntimeEvent, RuntimeEventInput } from '../events/runtime-event.js';
import { EventEmitterChain } from './event-chain.js';

const base = { jobId: 'job-1', scopeId: 'acme' };
const delta = (text: string) => ({ model: 'm', stepKey: 'job-1:0', textDelta: text });

function setup(lingerMs: number) {
  const bus = new InMemoryEventBus();
  const errors: unknown[] = [];
  const chain = new EventEmitterChain(bus, base, (e) => errors.push(e), { lingerMs });
  const texts = async () => (await bus.replay(base)).map((e) => (e.data as { textDelta?: string; name?: string }).textDelta ?? (e.data as { name: string }).name);
  return { bus, chain, errors, texts };
}

/** A write that stores `events` on the bus (as a journal store sharing the bus's transactions would). */
const storeOn = (bus: InMemoryEventBus) => async (events: readonly RuntimeEventInput[]) => bus.publishMany(events);

describe('EventEmitterChain', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('without linger, publishes a burst together as soon as the emitter awaits', async () => {
    const { bus, chain, texts } = setup(0);
    const publishMany = vi.spyOn(bus, 'publishMany');
    chain.emit('model.delta', delta('a'));
    chain.emit('model.delta', delta('b'));
    await Promise.resolve();
    await chain.flush();
    expect(await texts()).toEqual(['a', 'b']);
    expect(publishMany).toHaveBeenCalledTimes(1);
    expect(chain.carriesEvents).toBe(false);
  });

  it('with linger, a write within the delay carries the queued events, in order, followed by its own', async () => {
    vi.useFakeTimers();
    const { bus, chain, texts } = setup(5);
    const publishMany = vi.spyOn(bus, 'publishMany');
    chain.emit('model.delta', delta('a'));
    chain.emit('model.delta', delta('b'));
    const written = await chain.writeWith(() => [chain.build('model.delta', delta('c'))], storeOn(bus));
    expect(written.map((e: RuntimeEvent) => e.seq)).toEqual([1, 2, 3]);
    // The linger timer finds nothing left to publish: the write was the only one.
    await vi.advanceTimersByTimeAsync(10);
    expect(publishMany).toHaveBeenCalledTimes(1);
    expect(await texts()).toEqual(['a', 'b', 'c']);
  });

  it('with linger, events of a long step are published on their own after the delay', async () => {
    vi.useFakeTimers();
    const { chain, texts } = setup(5);
    chain.emit('model.delta', delta('early'));
    await vi.advanceTimersByTimeAsync(4);
    expect(await texts()).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(await texts()).toEqual(['early']);
    await chain.writeWith(() => [chain.build('model.delta', delta('late'))], storeOn(chain.bus as InMemoryEventBus));
    expect(await texts()).toEqual(['early', 'late']);
  });

  it('a write waits for publishes started before it, and events emitted during it go after it', async () => {
    const { bus, chain, texts } = setup(5);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const original = bus.publishMany.bind(bus);
    vi.spyOn(bus, 'publishMany').mockImplementationOnce(async (events) => {
      await gate;
      return original(events);
    });
    chain.emit('model.delta', delta('first'));
    chain.emit('model.delta', delta('first-b'));
    const flushed = chain.flush(); // publishes the two, held at the gate
    const writing = chain.writeWith(() => [chain.build('model.delta', delta('second'))], storeOn(bus));
    chain.emit('model.delta', delta('third'));
    await Promise.resolve();
    expect(await texts()).toEqual([]);
    release();
    await flushed;
    await writing;
    await chain.flush();
    expect(await texts()).toEqual(['first', 'first-b', 'second', 'third']);
  });

  it('a failed write puts the carried events back to be published on their own; its own events are dropped', async () => {
    vi.useFakeTimers();
    const { chain, texts } = setup(5);
    chain.emit('model.delta', delta('kept'));
    const failing = chain.writeWith(() => [chain.build('model.delta', delta('not-stored'))], async () => {
      throw new Error('database down');
    });
    await expect(failing).rejects.toThrow('database down');
    await vi.advanceTimersByTimeAsync(10);
    await chain.flush();
    expect(await texts()).toEqual(['kept']);
  });

  it('a failed publish is reported, never thrown, and later events still go out', async () => {
    const { bus, chain, errors, texts } = setup(0);
    vi.spyOn(bus, 'publish').mockRejectedValueOnce(new Error('bus down'));
    chain.emit('model.delta', delta('lost'));
    await Promise.resolve();
    await chain.flush();
    chain.emit('model.delta', delta('next'));
    await Promise.resolve();
    await chain.flush();
    expect(errors).toHaveLength(1);
    expect(await texts()).toEqual(['next']);
  });
});
