import { AbortError, IdempotencyConflictError } from '../errors/engine-errors.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { RequestContext } from '../types/request-context.js';
import type { HookSink, IdempotencyHookEvents } from './hooks.js';
import { SharedStream } from './shared-stream.js';

export interface IdempotencyTrackerOptions {
  /** How long a completed call's result is returned for its key (default 10 minutes). */
  ttlMs?: number;
  /** Keys remembered at most; the oldest completed ones are forgotten first (default 10,000). */
  maxEntries?: number;
  /** Clock in ms, for tests (default `performance.now()`). */
  now?: () => number;
  /** Where `idempotency.*` events go. */
  hooks?: HookSink<IdempotencyHookEvents>;
}

export interface IdempotencyClaim {
  key: string;
  /** Identifies the request body (a stable hash): the same key with another fingerprint is a conflict. */
  fingerprint: string;
  /** Keys are scoped per tenant: two tenants never share results. */
  tenantId?: string | undefined;
  context?: RequestContext | undefined;
  /** This caller's signal: when it fires the caller stops waiting; the call is cancelled only when every caller waiting for it has gone. */
  signal?: AbortSignal | undefined;
}

export type IdempotencyOutcome = 'executed' | 'joined' | 'hit';

export interface IdempotentResult<T> {
  value: T;
  outcome: IdempotencyOutcome;
}

export interface IdempotentStream<E, T> {
  events: AsyncIterable<E>;
  /** Settles with the final value (the stream's last event, through `finalValue`). */
  value: Promise<T>;
  outcome: IdempotencyOutcome;
}

interface Entry {
  readonly scopedKey: string;
  readonly fingerprint: string;
  state: 'pending' | 'done';
  readonly value: Promise<unknown>;
  result: unknown;
  stream: SharedStream<unknown> | undefined;
  readonly controller: AbortController;
  participants: number;
  readonly startedAt: number;
  expiresAt: number;
}

const SWEEP_STEPS = 16;

/**
 * Runs each idempotency key once. A call whose key is in flight is joined (not run again); a
 * completed one returns its result until the TTL passes; a failed one is forgotten, so it may
 * be retried; the same key with a different request (fingerprint) throws
 * `IdempotencyConflictError`. Streams are shared too: a joiner receives the whole stream, the
 * events so far and then the live ones. Memory is bounded by the TTL and `maxEntries`.
 */
export class IdempotencyTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly hooks: HookSink<IdempotencyHookEvents> | undefined;

  constructor(options: IdempotencyTrackerOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? (() => performance.now());
    this.hooks = options.hooks;
    if (typeof this.ttlMs !== 'number' || !Number.isFinite(this.ttlMs) || this.ttlMs < 0) {
      throw new InvalidArgumentError('idempotency.ttlMs', `must be a non-negative number of ms, got ${this.ttlMs}`);
    }
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new InvalidArgumentError('idempotency.maxEntries', `must be a positive integer, got ${this.maxEntries}`);
    }
  }

  /** Keys remembered right now (in flight and completed). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Runs `execute` once per key. It receives a signal that fires only when every caller
   * waiting for this key has aborted.
   */
  run<T>(options: IdempotencyClaim & { execute: (signal: AbortSignal) => Promise<T> }): Promise<IdempotentResult<T>> {
    let found: Entry | undefined;
    try {
      found = this.lookup(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (found === undefined) {
      const entry = this.start(options, options.execute);
      return this.wait(entry, options.signal).then((value) => ({ value: value as T, outcome: 'executed' }));
    }
    if (found.state === 'done') return Promise.resolve({ value: found.result as T, outcome: 'hit' });
    found.participants++;
    const entry = found;
    const joined = (value: unknown): IdempotentResult<T> => ({ value: value as T, outcome: 'joined' });
    if (entry.stream === undefined) return this.wait(entry, options.signal).then(joined);
    return this.drain(entry.stream, options.signal).then(() => this.wait(entry, options.signal).then(joined));
  }

  /**
   * Streams `execute` once per key. `finalValue` turns the last event into the stored value;
   * `replay` turns a stored value back into events for a caller that arrives after the end.
   */
  stream<E, T>(
    options: IdempotencyClaim & {
      execute: (signal: AbortSignal) => AsyncIterable<E>;
      finalValue: (last: E | undefined) => T;
      replay: (value: T) => Iterable<E>;
    },
  ): IdempotentStream<E, T> {
    const found = this.lookup(options);
    const signal = options.signal;
    if (found === undefined) {
      let shared: SharedStream<E> | undefined;
      const entry = this.start(options, (s) =>
          new Promise<T>((resolve, reject) => {
            shared = new SharedStream<E>(options.execute(s), (events, error) => {
              if (error !== undefined) reject(error);
              else {
                try {
                  resolve(options.finalValue(events[events.length - 1]));
                } catch (e) {
                  reject(e);
                }
              }
            });
          }),
      );
      if (shared === undefined) throw new Error('unreachable: stream not started');
      entry.stream = shared as SharedStream<unknown>;
      const events = shared.subscribe({ signal, onLeave: () => this.leave(entry) });
      return { events, value: entry.value as Promise<T>, outcome: 'executed' };
    }
    if (found.state === 'done') {
      const value = found.result as T;
      return { events: toAsync(options.replay(value), signal), value: Promise.resolve(value), outcome: 'hit' };
    }
    found.participants++;
    const value = found.value as Promise<T>;
    if (found.stream !== undefined) {
      return { events: (found.stream as SharedStream<E>).subscribe({ signal, onLeave: () => this.leave(found) }), value, outcome: 'joined' };
    }
    const waited = this.wait(found, signal) as Promise<T>;
    waited.then(undefined, () => undefined);
    return { events: replayAfter(waited, options.replay), value, outcome: 'joined' };
  }

  /** Forgets every key (in-flight calls still finish for their callers). */
  clear(): void {
    this.entries.clear();
  }

  /** The entry for the claim (hit or in flight), after the conflict check; undefined when new. */
  private lookup(claim: IdempotencyClaim): Entry | undefined {
    if (typeof claim.key !== 'string' || claim.key.length === 0) throw new InvalidArgumentError('idempotencyKey', 'must be a non-empty string');
    const now = this.now();
    this.sweep(now);
    const scopedKey = scopeKey(claim.key, claim.tenantId);
    const entry = this.entries.get(scopedKey);
    if (entry === undefined) return undefined;
    if (entry.state === 'done' && entry.expiresAt <= now) {
      this.entries.delete(scopedKey);
      return undefined;
    }
    const hooks = this.hooks;
    if (entry.fingerprint !== claim.fingerprint) {
      hooks?.emit('idempotency.conflict', { key: claim.key, tenantId: claim.tenantId, context: claim.context });
      throw new IdempotencyConflictError(claim.key);
    }
    if (hooks?.has('idempotency.hit')) hooks.emit('idempotency.hit', { key: claim.key, tenantId: claim.tenantId, context: claim.context, inFlight: entry.state === 'pending' });
    return entry;
  }

  private start(claim: IdempotencyClaim, execute: (signal: AbortSignal) => Promise<unknown>): Entry {
    const event = { key: claim.key, tenantId: claim.tenantId, context: claim.context };
    const controller = new AbortController();
    const startedAt = this.now();
    this.hooks?.emit('idempotency.start', event);
    let value: Promise<unknown>;
    try {
      value = execute(controller.signal);
    } catch (error) {
      value = Promise.reject(error);
    }
    const entry: Entry = {
      scopedKey: scopeKey(claim.key, claim.tenantId),
      fingerprint: claim.fingerprint,
      state: 'pending',
      value,
      result: undefined,
      stream: undefined,
      controller,
      participants: 1,
      startedAt,
      expiresAt: Number.POSITIVE_INFINITY,
    };
    this.entries.set(entry.scopedKey, entry);
    this.evictOverflow();
    value.then(
      (result) => {
        const at = this.now();
        entry.state = 'done';
        entry.result = result;
        entry.stream = undefined;
        entry.expiresAt = at + this.ttlMs;
        if (this.entries.get(entry.scopedKey) === entry) {
          // Re-insert: completed entries stay in completion order, which the sweep relies on.
          this.entries.delete(entry.scopedKey);
          if (this.ttlMs > 0) this.entries.set(entry.scopedKey, entry);
        }
        this.hooks?.emit('idempotency.complete', { ...event, durationMs: at - startedAt });
      },
      (error: unknown) => {
        if (this.entries.get(entry.scopedKey) === entry) this.entries.delete(entry.scopedKey);
        this.hooks?.emit('idempotency.fail', { ...event, durationMs: this.now() - startedAt, error });
      },
    );
    return entry;
  }

  /** Waits for the entry's value; this caller's abort makes it leave (and rejects with `AbortError`). */
  private wait(entry: Entry, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal === undefined) return entry.value;
    if (signal.aborted) {
      this.leave(entry);
      return Promise.reject(new AbortError(signal.reason));
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.leave(entry);
        reject(new AbortError(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.value.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  /** A non-streaming caller that joined a stream reads it to the end (it may be the only reader). */
  private async drain(stream: SharedStream<unknown>, signal: AbortSignal | undefined): Promise<void> {
    // Leaving is accounted by `wait`; this reader only keeps the shared stream moving.
    const reader = stream.subscribe({ signal });
    try {
      for (;;) if ((await reader.next()).done === true) break;
    } catch {
      // The failure (or this caller's abort) is reported by `wait`.
    }
  }

  private leave(entry: Entry): void {
    entry.participants--;
    if (entry.participants > 0 || entry.state !== 'pending') return;
    if (this.entries.get(entry.scopedKey) === entry) this.entries.delete(entry.scopedKey);
    entry.controller.abort(new AbortError(undefined, 'Every caller waiting for this idempotent call aborted'));
  }

  /** Drops expired entries from the front (completed entries are in completion order). Bounded work per call. */
  private sweep(now: number): void {
    let steps = 0;
    for (const entry of this.entries.values()) {
      if (steps++ >= SWEEP_STEPS) return;
      if (entry.state === 'pending') continue;
      if (entry.expiresAt > now) return;
      this.entries.delete(entry.scopedKey);
    }
  }

  private evictOverflow(): void {
    while (this.entries.size > this.maxEntries) {
      let victim: Entry | undefined;
      let steps = 0;
      for (const entry of this.entries.values()) {
        victim ??= entry;
        if (entry.state === 'done') {
          victim = entry;
          break;
        }
        if (++steps >= SWEEP_STEPS) break;
      }
      if (victim === undefined) return;
      this.entries.delete(victim.scopedKey);
    }
  }
}

function scopeKey(key: string, tenantId: string | undefined): string {
  return tenantId === undefined || tenantId === '' ? `\u0000${key}` : `${tenantId}\u0000${key}`;
}

async function* toAsync<E>(events: Iterable<E>, signal: AbortSignal | undefined): AsyncGenerator<E> {
  for (const e of events) {
    if (signal?.aborted) throw new AbortError(signal.reason);
    yield e;
  }
}

async function* replayAfter<E, T>(value: Promise<T>, replay: (value: T) => Iterable<E>): AsyncGenerator<E> {
  yield* replay(await value);
}
