import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { ModelResponse } from '../types/model.js';
import { copyResponse } from './response-events.js';

/**
 * Where the engine keeps exact-match answers. Keys are stable hashes of the normalized request
 * (provider and model included). Implement it over Redis or a database to share answers
 * between processes; methods may be sync or async.
 */
export interface ResponseCache {
  get(key: string): ModelResponse | undefined | Promise<ModelResponse | undefined>;
  /** Stores `value` for `ttlMs` (the cache's default TTL when absent). */
  set(key: string, value: ModelResponse, ttlMs?: number): void | Promise<void>;
  delete?(key: string): void | Promise<void>;
}

export interface InMemoryResponseCacheOptions {
  /** Entries kept; the least recently used goes first (default 1,000). */
  maxEntries?: number;
  /** Default time to live (default 10 minutes). */
  ttlMs?: number;
  /** Clock in ms, for tests (default `Date.now`). */
  now?: () => number;
}

interface Entry {
  value: ModelResponse;
  expiresAt: number;
}

/** A bounded in-memory LRU `ResponseCache` with a TTL per entry. */
export class InMemoryResponseCache implements ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: InMemoryResponseCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1000;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new InvalidArgumentError('maxEntries', `must be a positive integer, got ${this.maxEntries}`);
    }
    checkTtl(this.ttlMs, 'ttlMs');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): ModelResponse | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used goes last.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return copyResponse(entry.value);
  }

  set(key: string, value: ModelResponse, ttlMs = this.ttlMs): void {
    checkTtl(ttlMs, 'ttlMs');
    this.entries.delete(key);
    this.entries.set(key, { value: copyResponse(value), expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

function checkTtl(ttlMs: number, name: string): void {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) throw new InvalidArgumentError(name, `must be a positive number of ms, got ${ttlMs}`);
}
