import { InvalidArgumentError } from '@baton/llm-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventGap } from '../ports/event-bus.js';
import { EventBatcher, type EventBatcherOptions, type EventBatchWriteResult } from './event-batcher.js';
import { parseRuntimeEvent, type RuntimeEvent } from './runtime-event.js';

const seqs = new Map<string, number>();
/** The next event of a job (seqs count per job, from 1). */
function next(jobId: string): RuntimeEvent {
  const seq = (seqs.get(jobId) ?? 0) + 1;
  seqs.set(jobId, seq);
  return parseRuntimeEvent({ schemaVersion: 1, id: `${jobId}-${seq}`, type: 'model.delta', jobId, scopeId: 's', seq, at: 0, data: { model: 'm', textDelta: String(seq) } });
}
const label = (e: RuntimeEvent): string => `${e.jobId}#${e.seq}`;
/** Lets `setImmediate` callbacks and settled writes run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface PendingWrite {
  readonly batch: string[];
  readonly resolve: (result?: EventBatchWriteResult) => void;
  readonly reject: (error: unknown) => void;
}

/** A recording sink: writes resolve at once, or while `held` wait until settled one by one. */
class Sink {
  /** Every batch handed to `write`, in call order, as `job#seq` labels. */
  readonly batches: string[][] = [];
  /** Batches written (resolved), in the order they were. */
  readonly written: string[] = [];
  readonly pending: PendingWrite[] = [];
  held = false;
  maxInFlight = 0;

  readonly write = (events: readonly RuntimeEvent[]): Promise<EventBatchWriteResult | void> => {
    const batch = events.map(label);
    this.batches.push(batch);
    if (!this.held) {
      this.written.push(...batch);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.pending.push({
        batch,
        resolve: (result) => {
          this.written.push(...batch);
          resolve(result);
        },
        reject,
      });
      this.maxInFlight = Math.max(this.maxInFlight, this.pending.length);
    });
  };

  /** Settles the oldest pending write (as written, or as failed with `error`). */
  settle(error?: unknown): void {
    const write = this.pending.shift();
    if (!write) throw new Error('no write pending');
    if (error === undefined) write.resolve();
    else write.reject(error);
  }

  /** Settles every pending write, and the ones they let start, until none is left. */
  async release(): Promise<void> {
    this.held = false;
    await tick();
    while (this.pending.length > 0) {
      while (this.pending.length > 0) this.settle();
      await tick();
    }
  }

  /** The order in which one job's events were written. */
  order(jobId: string): number[] {
    return this.written.filter((l) => l.startsWith(`${jobId}#`)).map((l) => Number(l.slice(jobId.length + 1)));
  }
}

function setup(options: Partial<EventBatcherOptions> = {}) {
  const sink = new Sink();
  const gaps: EventGap[] = [];
  const batcher = new EventBatcher({ write: sink.write, onGap: (gap) => gaps.push(gap), ...options });
  return { sink, gaps, batcher, offer: (...jobIds: string[]) => jobIds.forEach((j) => batcher.offer(next(j))) };
}

afterEach(() => {
  seqs.clear();
  vi.useRealTimers();
});

describe('EventBatcher: batches and linger', () => {
  it('events offered in one tick go out together after it, a full batch at once', async () => {
    const { sink, batcher, offer } = setup({ batchSize: 4 });
    offer('a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b');
    expect(sink.batches).toEqual([['a#1', 'b#1', 'a#2', 'b#2']]); // full: written at once; a and b now in flight
    await tick();
    expect(sink.batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(sink.written).toHaveLength(10);
    await batcher.drained();
    expect(batcher.stats).toEqual({ written: 10, failed: 0, dropped: 0, buffered: 0, inFlightBatches: 0, inFlightMessages: 0 });
    expect(batcher.offered).toBe(10);
  });

  it('lingerMs 0: events offered across the microtasks of one tick go out in one batch', async () => {
    const { sink, offer } = setup();
    offer('a');
    await Promise.resolve(); // a bus hands events over on microtasks
    offer('b');
    await Promise.resolve();
    offer('a');
    expect(sink.batches).toEqual([]);
    await tick();
    expect(sink.batches).toEqual([['a#1', 'b#1', 'a#2']]);
  });

  it('lingerMs: a batch that is not full waits for more; a full one does not; drained() does not wait', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { sink, batcher, offer } = setup({ batchSize: 3, lingerMs: 30 });
    offer('a');
    await tick();
    vi.advanceTimersByTime(29);
    offer('b');
    await tick();
    expect(sink.batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sink.batches).toEqual([['a#1', 'b#1']]);

    offer('c', 'd', 'e');
    expect(sink.batches.at(-1)).toEqual(['c#1', 'd#1', 'e#1']);
    offer('f');
    await batcher.drained();
    expect(sink.batches.at(-1)).toEqual(['f#1']);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('EventBatcher: bounds', () => {
  it('at most maxInFlightBatches batches are written at once; the others wait in the buffer', async () => {
    const { sink, batcher, offer } = setup({ batchSize: 2, maxInFlightBatches: 2 });
    sink.held = true;
    offer(...Array.from({ length: 10 }, (_, i) => `job-${i}`));
    await tick();
    expect(sink.pending).toHaveLength(2);
    expect(batcher.stats).toMatchObject({ inFlightBatches: 2, inFlightMessages: 4, buffered: 6 });
    sink.settle();
    await tick();
    expect(sink.pending).toHaveLength(2); // the next batch took the freed place
    expect(batcher.stats).toMatchObject({ written: 2, inFlightBatches: 2, buffered: 4 });
    await sink.release();
    await batcher.drained();
    expect(sink.maxInFlight).toBe(2);
    expect(batcher.stats).toMatchObject({ written: 10, buffered: 0, inFlightBatches: 0, inFlightMessages: 0 });
  });

  it('past maxBuffered the oldest are dropped, reported once per burst, and the newest kept', async () => {
    const { sink, gaps, batcher, offer } = setup({ batchSize: 2, maxInFlightBatches: 1, maxBuffered: 5 });
    sink.held = true;
    for (let i = 0; i < 12; i++) offer('a'); // a#1..2 in flight, then a burst of 10 into a buffer of 5
    expect(gaps).toEqual([]); // reported after the burst
    await Promise.resolve();
    expect(gaps).toEqual([{ dropped: 5, first: { jobId: 'a', seq: 3 }, last: { jobId: 'a', seq: 7 } }]);
    await tick();
    offer('b', 'b'); // a second burst, a second report
    await Promise.resolve();
    expect(gaps).toHaveLength(2);
    expect(gaps[1]).toEqual({ dropped: 2, first: { jobId: 'a', seq: 8 }, last: { jobId: 'a', seq: 9 } });
    await sink.release();
    await batcher.drained();
    expect(sink.order('a')).toEqual([1, 2, 10, 11, 12]);
    expect(sink.order('b')).toEqual([1, 2]);
    expect(batcher.stats).toMatchObject({ written: 7, dropped: 7, failed: 0, buffered: 0 });
  });

  it('an onGap that throws is ignored: drops are still counted and drained resolves', async () => {
    const { sink, batcher, offer } = setup({ batchSize: 1, maxInFlightBatches: 1, maxBuffered: 1, onGap: () => { throw new Error('boom'); } });
    sink.held = true;
    offer('a', 'a', 'a');
    const drained = batcher.drained();
    await sink.release();
    await drained;
    expect(batcher.stats).toMatchObject({ written: 2, dropped: 1 });
  });
});

describe("EventBatcher: each job's order", () => {
  it("while a job's batch is slow its later events wait, and other jobs' events go on", async () => {
    const { sink, batcher, offer } = setup({ batchSize: 10, maxInFlightBatches: 4 });
    sink.held = true;
    offer('a');
    await tick();
    offer('a', 'b', 'a', 'c');
    await tick();
    expect(sink.batches).toEqual([['a#1'], ['b#1', 'c#1']]);
    expect(batcher.stats.buffered).toBe(2);
    sink.pending.splice(1, 1)[0]!.resolve(); // b and c are written before a#1
    await tick();
    expect(sink.batches).toHaveLength(2); // a#2, a#3 still wait for a#1
    sink.settle();
    await tick();
    expect(sink.batches.at(-1)).toEqual(['a#2', 'a#3']);
    await sink.release();
    await batcher.drained();
    expect(sink.order('a')).toEqual([1, 2, 3]);
  });

  it("a job's events wait while its batch is retried inside the write, and go after it fails", async () => {
    let attempts = 0;
    let retry!: () => void;
    const sink = new Sink();
    const batcher = new EventBatcher({
      batchSize: 10,
      write: async (batch) => {
        if (batch.some((e) => e.jobId === 'a' && e.seq === 1)) {
          attempts++;
          await new Promise<void>((resolve) => (retry = resolve)); // a backoff before the next attempt
          attempts++;
          throw new Error('lost after its retries');
        }
        return sink.write(batch);
      },
    });
    batcher.offer(next('a'));
    await tick();
    batcher.offer(next('a'));
    batcher.offer(next('b'));
    await tick();
    expect(attempts).toBe(1);
    expect(sink.written).toEqual(['b#1']);
    retry();
    await batcher.drained();
    expect(attempts).toBe(2);
    expect(sink.written).toEqual(['b#1', 'a#2']);
    expect(batcher.stats).toMatchObject({ written: 2, failed: 1 });
  });

  it('keeps every job in order with many jobs and several batches in flight', async () => {
    const { sink, batcher, offer } = setup({ batchSize: 7, maxInFlightBatches: 3 });
    sink.held = true;
    const jobs = Array.from({ length: 40 }, (_, i) => `job-${i}`);
    for (let i = 0; i < 10; i++) offer(...jobs);
    await tick();
    expect(sink.pending).toHaveLength(3);
    // Settle out of order: the newest batch first, then the oldest.
    while (sink.pending.length > 0) {
      sink.pending.pop()!.resolve();
      await tick();
      if (sink.pending.length > 0) sink.settle();
      await tick();
    }
    await batcher.drained();
    expect(sink.maxInFlight).toBe(3);
    for (const job of jobs) expect(sink.order(job), job).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const batch of sink.batches) expect(batch.length).toBeLessThanOrEqual(7);
    expect(batcher.stats).toMatchObject({ written: 400, buffered: 0 });
  });
});

describe('EventBatcher: a long buffer behind busy jobs', () => {
  it('offers do not rescan a buffer whose jobs all have a batch in flight: 100,000 events of 50 jobs go out in order, fast', async () => {
    const written: RuntimeEvent[] = [];
    const batcher = new EventBatcher({
      write: async (batch) => {
        await tick();
        written.push(...batch);
      },
      onGap: () => {},
      batchSize: 256,
      maxInFlightBatches: 4,
      maxBuffered: 100_000,
    });
    const started = Date.now();
    for (let i = 0; i < 100_000; i++) batcher.offer(next(`busy-${i % 50}`));
    // Another job's event is taken at once although the buffer is blocked behind the others.
    batcher.offer(next('other'));
    await batcher.drained();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(written).toHaveLength(100_001);
    const last = new Map<string, number>();
    for (const e of written) {
      expect(e.seq).toBe((last.get(e.jobId) ?? 0) + 1);
      last.set(e.jobId, e.seq);
    }
  });
});

describe('EventBatcher: failures', () => {
  it('counts the events a write reports failed, a rejected batch, and a write that throws', async () => {
    const outcomes: Array<() => Promise<EventBatchWriteResult | void>> = [
      () => Promise.resolve({ failed: 2 }),
      () => Promise.resolve(),
      () => Promise.reject(new Error('lost')),
      () => Promise.resolve({ failed: 99 }),
      () => {
        throw new Error('synchronous');
      },
    ];
    const batcher = new EventBatcher({ batchSize: 3, write: () => outcomes.shift()!() });
    for (let i = 0; i < 15; i++) batcher.offer(next(`job-${i}`));
    await batcher.drained();
    expect(outcomes).toEqual([]);
    // Written: 3 - 2, then 3, then none (rejected, 99 capped at 3, threw).
    expect(batcher.stats).toMatchObject({ written: 4, failed: 11, dropped: 0, inFlightBatches: 0 });
  });

  it('a batch reported partly failed frees its jobs: their next events are written', async () => {
    const written: string[] = [];
    const batcher = new EventBatcher({
      write: async (batch) => {
        written.push(...batch.map(label));
        return { failed: batch.filter((e) => e.jobId === 'bad').length };
      },
    });
    batcher.offer(next('bad'));
    batcher.offer(next('good'));
    await tick();
    batcher.offer(next('bad'));
    await batcher.drained();
    expect(written).toEqual(['bad#1', 'good#1', 'bad#2']);
    expect(batcher.stats).toMatchObject({ written: 1, failed: 2 });
  });
});

describe('EventBatcher: drained', () => {
  it('resolves once the first target events are written, failed or dropped', async () => {
    const { sink, batcher, offer } = setup({ batchSize: 2, maxInFlightBatches: 1, maxBuffered: 2 });
    await batcher.drained(); // nothing offered
    sink.held = true;
    offer('a', 'a', 'b', 'b', 'b');
    const order: string[] = [];
    void batcher.drained(2).then(() => order.push('first 2'));
    void batcher.drained(3).then(() => order.push('first 3'));
    void batcher.drained().then(() => order.push('all 5'));
    await tick();
    expect(order).toEqual([]);
    expect(batcher.stats.dropped).toBe(1); // b#1, dropped from the full buffer
    sink.settle();
    await tick();
    expect(order).toEqual(['first 2', 'first 3']); // a#1, a#2 written; b#1 dropped
    sink.settle(new Error('lost'));
    await tick();
    expect(order).toEqual(['first 2', 'first 3', 'all 5']);
    expect(batcher.stats).toMatchObject({ written: 2, failed: 2, dropped: 1 });
  });
});

describe('EventBatcher: options', () => {
  it('rejects invalid options at once', () => {
    const write = async (): Promise<void> => {};
    expect(() => new EventBatcher({ write: undefined as never })).toThrow(InvalidArgumentError);
    expect(() => new EventBatcher({ write, batchSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => new EventBatcher({ write, maxInFlightBatches: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => new EventBatcher({ write, maxBuffered: -1 })).toThrow(InvalidArgumentError);
    expect(() => new EventBatcher({ write, lingerMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => new EventBatcher({ write, onGap: 'no' as never })).toThrow(InvalidArgumentError);
    expect(() => new EventBatcher({ write, lingerMs: 0 })).not.toThrow();
  });
});
