import { describe, expect, it } from 'vitest';
import { AbortError, IdempotencyConflictError } from '../errors/engine-errors.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { HookEmitter, type IdempotencyHookEvents } from './hooks.js';
import { IdempotencyTracker } from './idempotency-tracker.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

async function* events(items: string[], gate?: Promise<void>): AsyncGenerator<string> {
  for (const [i, item] of items.entries()) {
    if (i === 1 && gate) await gate;
    yield item;
  }
}

const collect = async (it: AsyncIterable<string>) => {
  const out: string[] = [];
  for await (const e of it) out.push(e);
  return out;
};

describe('IdempotencyTracker.run', () => {
  it('joins a call in flight instead of running it again', async () => {
    const tracker = new IdempotencyTracker();
    const d = deferred<string>();
    let runs = 0;
    const execute = () => {
      runs++;
      return d.promise;
    };
    const calls = Array.from({ length: 5 }, () => tracker.run({ key: 'k', fingerprint: 'f', execute }));
    d.resolve('answer');
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(results.map((r) => r.value)).toEqual(Array(5).fill('answer'));
    expect(results.map((r) => r.outcome)).toEqual(['executed', 'joined', 'joined', 'joined', 'joined']);
  });

  it('returns a completed result until the TTL passes, then runs again', async () => {
    const c = clock();
    const tracker = new IdempotencyTracker({ ttlMs: 1000, now: c.now });
    let runs = 0;
    const execute = async () => `run ${++runs}`;
    expect(await tracker.run({ key: 'k', fingerprint: 'f', execute })).toEqual({ value: 'run 1', outcome: 'executed' });
    c.advance(999);
    expect(await tracker.run({ key: 'k', fingerprint: 'f', execute })).toEqual({ value: 'run 1', outcome: 'hit' });
    c.advance(1);
    expect(await tracker.run({ key: 'k', fingerprint: 'f', execute })).toEqual({ value: 'run 2', outcome: 'executed' });
  });

  it('does not cache a failure: the key may be retried', async () => {
    const tracker = new IdempotencyTracker();
    let runs = 0;
    const execute = async () => {
      if (++runs === 1) throw new Error('flaky');
      return 'fine';
    };
    await expect(tracker.run({ key: 'k', fingerprint: 'f', execute })).rejects.toThrow('flaky');
    expect(tracker.size).toBe(0);
    expect(await tracker.run({ key: 'k', fingerprint: 'f', execute })).toEqual({ value: 'fine', outcome: 'executed' });
  });

  it('joiners of a failed call all get the failure', async () => {
    const tracker = new IdempotencyTracker();
    const d = deferred<string>();
    const a = tracker.run({ key: 'k', fingerprint: 'f', execute: () => d.promise });
    const b = tracker.run({ key: 'k', fingerprint: 'f', execute: () => d.promise });
    d.reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');
  });

  it('the same key with another request is a conflict, in flight and after completion', async () => {
    const hooks = new HookEmitter<IdempotencyHookEvents>();
    const conflicts: string[] = [];
    hooks.on('idempotency.conflict', (e) => void conflicts.push(e.key));
    const tracker = new IdempotencyTracker({ hooks });
    const d = deferred<string>();
    const first = tracker.run({ key: 'k', fingerprint: 'body-1', execute: () => d.promise });
    await expect(tracker.run({ key: 'k', fingerprint: 'body-2', execute: async () => 'x' })).rejects.toBeInstanceOf(IdempotencyConflictError);
    d.resolve('done');
    await first;
    await expect(tracker.run({ key: 'k', fingerprint: 'body-2', execute: async () => 'x' })).rejects.toThrow(/already used with a different request/);
    expect(conflicts).toEqual(['k', 'k']);
  });

  it('scopes keys per tenant', async () => {
    const tracker = new IdempotencyTracker();
    const a = await tracker.run({ key: 'k', fingerprint: 'f1', tenantId: 'A', execute: async () => 'for A' });
    const b = await tracker.run({ key: 'k', fingerprint: 'f2', tenantId: 'B', execute: async () => 'for B' });
    expect([a.value, b.value]).toEqual(['for A', 'for B']);
  });

  it('emits start, hit, complete and fail with timings', async () => {
    const c = clock();
    const hooks = new HookEmitter<IdempotencyHookEvents>();
    const seen: unknown[] = [];
    hooks.on('idempotency.start', (e) => void seen.push(['start', e.key]));
    hooks.on('idempotency.hit', (e) => void seen.push(['hit', e.inFlight]));
    hooks.on('idempotency.complete', (e) => void seen.push(['complete', e.durationMs]));
    hooks.on('idempotency.fail', (e) => void seen.push(['fail', (e.error as Error).message]));
    const tracker = new IdempotencyTracker({ hooks, now: c.now });
    const d = deferred<string>();
    const first = tracker.run({ key: 'k', fingerprint: 'f', execute: () => d.promise });
    const joiner = tracker.run({ key: 'k', fingerprint: 'f', execute: () => d.promise });
    c.advance(42);
    d.resolve('v');
    await Promise.all([first, joiner]);
    await tracker.run({ key: 'k', fingerprint: 'f', execute: () => d.promise });
    await tracker.run({ key: 'other', fingerprint: 'f', execute: () => Promise.reject(new Error('no')) }).catch(() => undefined);
    expect(seen).toEqual([['start', 'k'], ['hit', true], ['complete', 42], ['hit', false], ['start', 'other'], ['fail', 'no']]);
  });

  it('bounds memory with maxEntries, forgetting the oldest completed keys first', async () => {
    const tracker = new IdempotencyTracker({ maxEntries: 3 });
    const pending = deferred<string>();
    void tracker.run({ key: 'in-flight', fingerprint: 'f', execute: () => pending.promise });
    for (const key of ['a', 'b', 'c', 'd']) await tracker.run({ key, fingerprint: 'f', execute: async () => key });
    expect(tracker.size).toBe(3);
    expect((await tracker.run({ key: 'a', fingerprint: 'f', execute: async () => 'again' })).outcome).toBe('executed');
    expect((await tracker.run({ key: 'd', fingerprint: 'f', execute: async () => 'again' })).outcome).toBe('hit');
    pending.resolve('x');
  });

  it("a caller's abort stops its wait; the call is cancelled only when every caller has gone", async () => {
    const tracker = new IdempotencyTracker();
    let shared: AbortSignal | undefined;
    const d = deferred<string>();
    const execute = (signal: AbortSignal) => {
      shared = signal;
      return d.promise;
    };
    const c1 = new AbortController();
    const c2 = new AbortController();
    const first = tracker.run({ key: 'k', fingerprint: 'f', signal: c1.signal, execute });
    const second = tracker.run({ key: 'k', fingerprint: 'f', signal: c2.signal, execute });
    c1.abort();
    await expect(first).rejects.toBeInstanceOf(AbortError);
    expect(shared?.aborted).toBe(false);
    c2.abort();
    await expect(second).rejects.toBeInstanceOf(AbortError);
    expect(shared?.aborted).toBe(true);
    // The abandoned key is forgotten at once: a new caller runs it again.
    expect((await tracker.run({ key: 'k', fingerprint: 'f', execute: async () => 'fresh' })).value).toBe('fresh');
  });

  it('rejects bad options', () => {
    expect(() => new IdempotencyTracker({ maxEntries: 0 })).toThrow(InvalidArgumentError);
    expect(() => new IdempotencyTracker({ ttlMs: -5 })).toThrow(InvalidArgumentError);
    return expect(new IdempotencyTracker().run({ key: '', fingerprint: 'f', execute: async () => 1 })).rejects.toThrow(InvalidArgumentError);
  });
});

describe('IdempotencyTracker.stream', () => {
  const streamOptions = (source: () => AsyncIterable<string>, signal?: AbortSignal) => ({
    key: 'k',
    fingerprint: 'f',
    signal,
    execute: source,
    finalValue: (last: string | undefined) => `final:${last}`,
    replay: (value: string) => ['replayed', value],
  });

  it('a joiner receives the whole stream: the events so far, then the live ones', async () => {
    const tracker = new IdempotencyTracker();
    const gate = deferred<void>();
    let runs = 0;
    const source = () => {
      runs++;
      return events(['a', 'b', 'c'], gate.promise);
    };
    const first = tracker.stream(streamOptions(source));
    const it1 = first.events[Symbol.asyncIterator]();
    expect(await it1.next()).toEqual({ done: false, value: 'a' });
    const second = tracker.stream(streamOptions(source));
    expect(second.outcome).toBe('joined');
    const rest = collect(second.events);
    gate.resolve();
    const tail: string[] = [];
    for (let r = await it1.next(); r.done !== true; r = await it1.next()) tail.push(r.value);
    expect(tail).toEqual(['b', 'c']);
    expect(await rest).toEqual(['a', 'b', 'c']);
    expect(await first.value).toBe('final:c');
    expect(runs).toBe(1);
    // After the end, the stored value is replayed.
    const third = tracker.stream(streamOptions(source));
    expect(third.outcome).toBe('hit');
    expect(await collect(third.events)).toEqual(['replayed', 'final:c']);
  });

  it('a non-streaming joiner of a stream gets the final value (and drives the stream if it must)', async () => {
    const tracker = new IdempotencyTracker();
    const first = tracker.stream(streamOptions(() => events(['x', 'y'])));
    const joined = await tracker.run({ key: 'k', fingerprint: 'f', execute: async () => 'never' });
    expect(joined).toEqual({ value: 'final:y', outcome: 'joined' });
    expect(await collect(first.events)).toEqual(['x', 'y']);
  });

  it('a streaming joiner of a call in flight gets its value replayed', async () => {
    const tracker = new IdempotencyTracker();
    const d = deferred<string>();
    const first = tracker.run({ key: 'k', fingerprint: 'f', execute: () => d.promise });
    const joined = tracker.stream(streamOptions(() => events(['never'])));
    d.resolve('v');
    expect(await collect(joined.events)).toEqual(['replayed', 'v']);
    expect((await first).value).toBe('v');
  });

  it('a failed stream is not cached, and its readers get the failure', async () => {
    const tracker = new IdempotencyTracker();
    async function* broken(): AsyncGenerator<string> {
      yield 'a';
      throw new Error('cut');
    }
    const s = tracker.stream(streamOptions(broken));
    await expect(collect(s.events)).rejects.toThrow('cut');
    await expect(s.value).rejects.toThrow('cut');
    expect(tracker.size).toBe(0);
    expect(tracker.stream(streamOptions(() => events(['ok']))).outcome).toBe('executed');
  });

  it('closes the source when every reader leaves early', async () => {
    const tracker = new IdempotencyTracker();
    let closed = false;
    async function* endless(): AsyncGenerator<string> {
      try {
        for (let i = 0; ; i++) yield String(i);
      } finally {
        closed = true;
      }
    }
    const s = tracker.stream(streamOptions(endless));
    for await (const e of s.events) if (e === '2') break;
    await expect(s.value).rejects.toBeInstanceOf(AbortError);
    expect(closed).toBe(true);
    expect(tracker.size).toBe(0);
  });
});
