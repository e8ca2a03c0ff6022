import { describe, expect, it } from 'vitest';
import { SubscriberOverflowError } from '../errors/store-errors.js';
import type { EventGap } from '../ports/event-bus.js';
import { InMemoryEventBus } from './in-memory-event-bus.js';
import type { RuntimeEvent, RuntimeEventInput } from './runtime-event.js';

const scopeId = 'scope-1';
const delta = (jobId: string, text: string): RuntimeEventInput<'model.delta'> => ({ type: 'model.delta', jobId, scopeId, data: { model: 'm', textDelta: text } });
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('InMemoryEventBus history', () => {
  it('keeps the last maxEventsPerJob events of a job and keeps counting seqs', async () => {
    const bus = new InMemoryEventBus({ maxEventsPerJob: 3 });
    for (let i = 0; i < 5; i++) await bus.publish(delta('j', String(i)));
    expect((await bus.replay({ jobId: 'j', scopeId })).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect((await bus.replay({ jobId: 'j', scopeId, fromSeq: 4 })).map((e) => e.seq)).toEqual([4, 5]);
    expect((await bus.publish(delta('j', 'x'))).seq).toBe(6);
  });

  it("forgets a finished job's events after the TTL, not a running job's", async () => {
    let now = 1_000;
    const bus = new InMemoryEventBus({ finishedJobTtlMs: 100, now: () => now });
    await bus.publish(delta('done', 'a'));
    await bus.publish({ type: 'job.completed', jobId: 'done', scopeId, data: { from: 'running' } });
    await bus.publish(delta('busy', 'b'));
    now += 99;
    expect(await bus.replay({ jobId: 'done', scopeId })).toHaveLength(2);
    now += 1;
    bus.evictExpired();
    expect(await bus.replay({ jobId: 'done', scopeId })).toEqual([]);
    expect(await bus.replay({ jobId: 'busy', scopeId })).toHaveLength(1);
  });

  it('does not evict a job that published again after its terminal event', async () => {
    let now = 0;
    const bus = new InMemoryEventBus({ finishedJobTtlMs: 10, now: () => now });
    await bus.publish({ type: 'job.dead_lettered', jobId: 'j', scopeId, data: { from: 'running', reason: 'poison' } });
    await bus.publish({ type: 'job.requeued', jobId: 'j', scopeId, data: { from: 'dead_lettered' } });
    now = 50;
    bus.evictExpired();
    expect((await bus.replay({ jobId: 'j', scopeId })).map((e) => e.seq)).toEqual([1, 2]);
  });
});

describe('InMemoryEventBus publishMany', () => {
  it('stores a batch as publish would one event after another (a terminal event with a TTL of 0 starts a new history)', async () => {
    const terminalThenMore = (jobId: string): RuntimeEventInput[] => [delta(jobId, 'a'), { type: 'job.completed', jobId, scopeId, data: { from: 'running' } }, delta(jobId, 'b')];
    const one = new InMemoryEventBus({ finishedJobTtlMs: 0, now: () => 5 });
    for (const input of terminalThenMore('j')) await one.publish(input);
    const many = new InMemoryEventBus({ finishedJobTtlMs: 0, now: () => 5 });
    const published = await many.publishMany(terminalThenMore('j'));
    expect(published.map((e) => e.seq)).toEqual([1, 2, 1]);
    const shape = (events: readonly RuntimeEvent[]) => events.map((e) => [e.seq, e.type]);
    expect(shape(await many.replay({ jobId: 'j', scopeId }))).toEqual(shape(await one.replay({ jobId: 'j', scopeId })));
    expect(shape(await many.replay({ jobId: 'j', scopeId }))).toEqual([[1, 'model.delta']]);
  });

  it('refuses a batch that is not an array', async () => {
    const bus = new InMemoryEventBus();
    await expect(bus.publishMany(delta('j', 'a') as never)).rejects.toMatchObject({ code: 'invalid_argument', argument: 'events' });
  });
});

describe('InMemoryEventBus slow subscribers', () => {
  async function blockedSubscriber(bus: InMemoryEventBus, options: Parameters<InMemoryEventBus['subscribe']>[1]) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const got: number[] = [];
    const stop = bus.subscribe(async (e) => {
      await gate;
      got.push(e.seq);
    }, options);
    return { got, stop, release };
  }

  it('drop-oldest: drops the oldest queued events and reports the gap before the next event', async () => {
    const bus = new InMemoryEventBus({ maxQueue: 3 });
    const order: string[] = [];
    const gaps: EventGap[] = [];
    const sub = await blockedSubscriber(bus, {
      jobId: 'j',
      onGap: (gap) => {
        gaps.push(gap);
        order.push(`gap ${gap.first.seq}-${gap.last.seq}`);
      },
    });
    await bus.publish(delta('j', '1')); // handed to the handler, which blocks
    await tick();
    for (let i = 2; i <= 7; i++) await bus.publish(delta('j', String(i))); // queue holds 3: 2..4 dropped
    sub.release();
    await tick();
    sub.stop();
    expect(sub.got).toEqual([1, 5, 6, 7]);
    expect(gaps).toEqual([{ dropped: 3, first: { jobId: 'j', seq: 2 }, last: { jobId: 'j', seq: 4 } }]);
    expect(order).toEqual(['gap 2-4']);
  });

  it('disconnect: unsubscribes the subscriber with a SubscriberOverflowError', async () => {
    const bus = new InMemoryEventBus({ maxQueue: 2, overflow: 'disconnect' });
    const errors: unknown[] = [];
    const sub = await blockedSubscriber(bus, { jobId: 'j', onDisconnect: (e) => errors.push(e) });
    await bus.publish(delta('j', '1'));
    await tick();
    for (let i = 2; i <= 5; i++) await bus.publish(delta('j', String(i)));
    sub.release();
    await tick();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SubscriberOverflowError);
    expect(sub.got).toEqual([1]);
    await bus.publish(delta('j', '6'));
    await tick();
    expect(sub.got).toEqual([1]);
  });

  it('lets a subscription override the bus policy', async () => {
    const bus = new InMemoryEventBus({ overflow: 'disconnect' });
    const gaps: EventGap[] = [];
    const sub = await blockedSubscriber(bus, { jobId: 'j', maxQueue: 1, overflow: 'drop-oldest', onGap: (g) => gaps.push(g) });
    await bus.publish(delta('j', '1'));
    await tick();
    await bus.publish(delta('j', '2'));
    await bus.publish(delta('j', '3'));
    sub.release();
    await tick();
    sub.stop();
    expect(sub.got).toEqual([1, 3]);
    expect(gaps.map((g) => g.dropped)).toEqual([1]);
  });

  it('keeps publishing while a subscriber is stuck, holding at most maxQueue events for it', async () => {
    const bus = new InMemoryEventBus({ maxQueue: 100 });
    const gaps: EventGap[] = [];
    const sub = await blockedSubscriber(bus, { onGap: (g) => gaps.push(g) });
    const seqs: number[] = [];
    for (let i = 0; i < 5_000; i++) seqs.push((await bus.publish(delta(`job-${i % 10}`, 'x'))).seq);
    expect(seqs.at(-1)).toBe(500);
    expect(sub.got).toEqual([]);
    sub.release();
    await tick();
    sub.stop();
    // The first event was in the handler; the last 100 were queued; the rest were dropped.
    expect(sub.got).toHaveLength(101);
    expect(gaps).toEqual([{ dropped: 4_899, first: { jobId: 'job-1', seq: 1 }, last: { jobId: 'job-9', seq: 490 } }]);
  });

  it('reports handler errors to the bus when the subscription has no onError', async () => {
    const reported: string[] = [];
    const bus = new InMemoryEventBus({ onHandlerError: (error, event) => reported.push(`${(error as Error).message}@${event.seq}`) });
    bus.subscribe(() => {
      throw new Error('bad handler');
    });
    await bus.publish(delta('j', 'a'));
    await tick();
    expect(reported).toEqual(['bad handler@1']);
  });
});

describe('InMemoryEventBus stream', () => {
  it('disconnect: the iterator throws SubscriberOverflowError once its buffer overflows', async () => {
    const bus = new InMemoryEventBus();
    const iterator = bus.stream({ jobId: 'j', scopeId, maxBuffered: 2 })[Symbol.asyncIterator]();
    const first = iterator.next(); // subscribes
    await bus.publish(delta('j', '1'));
    expect((await first).value?.seq).toBe(1);
    for (let i = 2; i <= 6; i++) await bus.publish(delta('j', String(i)));
    await tick();
    const seqs: number[] = [];
    await expect(
      (async () => {
        for (;;) {
          const r = await iterator.next();
          if (r.done) return;
          seqs.push((r.value as RuntimeEvent).seq);
        }
      })(),
    ).rejects.toBeInstanceOf(SubscriberOverflowError);
    expect(seqs).toEqual([2, 3]);
  });

  it('drop-oldest: reports the hole by seq and goes on', async () => {
    const bus = new InMemoryEventBus();
    const gaps: EventGap[] = [];
    const iterator = bus.stream({ jobId: 'j', scopeId, fromSeq: 1, maxBuffered: 2, overflow: 'drop-oldest', onGap: (g) => gaps.push(g) })[Symbol.asyncIterator]();
    const first = iterator.next();
    await bus.publish(delta('j', '1'));
    expect((await first).value?.seq).toBe(1);
    for (let i = 2; i <= 6; i++) await bus.publish(delta('j', String(i)));
    await tick();
    expect((await iterator.next()).value?.seq).toBe(5);
    expect((await iterator.next()).value?.seq).toBe(6);
    await iterator.return?.();
    expect(gaps).toEqual([{ dropped: 3, first: { jobId: 'j', seq: 2 }, last: { jobId: 'j', seq: 4 } }]);
  });

  it('reports a gap when the history no longer holds fromSeq', async () => {
    const bus = new InMemoryEventBus({ maxEventsPerJob: 2 });
    for (let i = 0; i < 4; i++) await bus.publish(delta('j', String(i)));
    const gaps: EventGap[] = [];
    const seen: number[] = [];
    for await (const e of bus.stream({ jobId: 'j', scopeId, fromSeq: 1, onGap: (g) => gaps.push(g), until: (x) => x.seq === 4 })) seen.push(e.seq);
    expect(seen).toEqual([3, 4]);
    expect(gaps).toEqual([{ dropped: 2, first: { jobId: 'j', seq: 1 }, last: { jobId: 'j', seq: 2 } }]);
  });
});
