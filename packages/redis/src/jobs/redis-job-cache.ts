import { BatonError, InvalidArgumentError } from '@baton/llm-client';
import { JobStore, parseJobRecord, type CreateJobResult, type JobPage, type JobRecord, type JobRef, type ListJobsOptions } from '@baton/agent-runtime';
import { keyPart, keyPrefixOf } from '../connection/key-prefix.js';
import { RedisConnection, type RedisConnectionOptions } from '../connection/redis-connection.js';
import { PUT_IF_NEWER } from './job-cache-scripts.js';

export interface RedisJobCacheOptions extends RedisConnectionOptions {
  /** The store of record. Every write goes to it first; it decides conflicts. */
  readonly store: JobStore;
  /** Prepended to every key (default `baton:`); a job is cached under `<prefix>job:<scope>:<id>`. */
  readonly keyPrefix?: string | undefined;
  /** How long a cached job lives (default 60,000 ms): the bound on staleness after a write that bypassed every cache. */
  readonly ttlMs?: number | undefined;
  /**
   * Called when the cache could not be read or written (Redis down, a cached entry that does
   * not parse). The call itself still succeeds from the store. Default: ignored.
   */
  readonly onCacheError?: ((error: unknown) => void) | undefined;
}

const DEFAULT_TTL_MS = 60_000;

/**
 * A read-through cache of job records in Redis, in front of any `JobStore` (itself a
 * `JobStore`). `get` reads Redis, then the store on a miss, and caches what it found; `create`
 * and `update` write the store, then cache the record they wrote; `list` and
 * `findByIdempotencyKey` go to the store.
 *
 * Consistency across processes: the cache lives in Redis, so every cache instance on every host
 * sees the same entries, and a write through any of them replaces the entry for all. Entries are
 * versioned with the record's `version` and only ever replaced by a newer one (a Lua script), so
 * a reader that loaded an old version before a concurrent write cannot cache it over the newer
 * one. A write that bypasses every cache (straight to the store) is seen after at most `ttlMs`,
 * or at once after `invalidate()`. A stale read is safe for writers: updates are compare-and-set
 * in the store, and an update refused as stale (`ConcurrentModificationError`) drops the cached
 * entry, so the caller's re-read gets the store's record.
 *
 * The cache fails open: when Redis is unreachable, reads and writes go to the store alone and
 * the error goes to `onCacheError`. A cached entry that does not parse is dropped and reported,
 * and the store's record is read instead; a corrupt record in the store still fails with its
 * `CorruptRecordError`.
 */
export class RedisJobCache extends JobStore {
  readonly #store: JobStore;
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #onCacheError: (error: unknown) => void;

  constructor(options: RedisJobCacheOptions) {
    super();
    const store = options?.store as JobStore | undefined;
    if (!store || typeof store.get !== 'function' || typeof store.update !== 'function' || typeof store.create !== 'function' || typeof store.list !== 'function') {
      throw new InvalidArgumentError('store', 'a JobStore is required');
    }
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new InvalidArgumentError('ttlMs', 'must be a positive integer (milliseconds)');
    if (options.onCacheError !== undefined && typeof options.onCacheError !== 'function') throw new InvalidArgumentError('onCacheError', 'must be a function');
    this.#prefix = keyPrefixOf(options.keyPrefix);
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#onCacheError = options.onCacheError ?? (() => {});
    this.#connection = new RedisConnection('RedisJobCache', options);
  }

  override async create(job: JobRecord): Promise<CreateJobResult> {
    this.#connection.assertOpen();
    const result = await this.#store.create(job);
    await this.#put(result.job);
    return result;
  }

  override async get(ref: JobRef): Promise<JobRecord | undefined> {
    this.#connection.assertOpen();
    const cached = await this.#read(ref);
    if (cached) return cached;
    const job = await this.#store.get(ref);
    if (job) await this.#put(job);
    return job;
  }

  override async update(job: JobRecord): Promise<JobRecord> {
    this.#connection.assertOpen();
    let next: JobRecord;
    try {
      next = await this.#store.update(job);
    } catch (error) {
      // Refused as stale or unknown: whatever the cache holds for it may be what misled the caller.
      const code = BatonError.isInstance(error) ? error.code : undefined;
      if ((code === 'concurrent_modification' || code === 'job_not_found') && typeof job?.scopeId === 'string' && typeof job.id === 'string') {
        await this.invalidate({ scopeId: job.scopeId, jobId: job.id });
      }
      throw error;
    }
    await this.#put(next);
    return next;
  }

  override async list(options: ListJobsOptions): Promise<JobPage> {
    this.#connection.assertOpen();
    return this.#store.list(options);
  }

  override async findByIdempotencyKey(options: { scopeId: string; idempotencyKey: string }): Promise<JobRecord | undefined> {
    this.#connection.assertOpen();
    return this.#store.findByIdempotencyKey(options);
  }

  /** Drops the cached entry of a job, e.g. after writing it to the store some other way. */
  async invalidate(ref: JobRef): Promise<void> {
    try {
      await this.#connection.run('job-cache.invalidate', (client) => client.del(this.cacheKey(ref)));
    } catch (error) {
      this.#report(error);
    }
  }

  /** The Redis key a job is cached under. */
  cacheKey(ref: JobRef): string {
    return `${this.#prefix}job:${keyPart(ref.scopeId)}:${keyPart(ref.jobId)}`;
  }

  /** Closes the connection when it was opened from a URL. The wrapped store is left alone. */
  async close(): Promise<void> {
    await this.#connection.close();
  }

  async #read(ref: JobRef): Promise<JobRecord | undefined> {
    if (typeof ref?.scopeId !== 'string' || typeof ref.jobId !== 'string') return undefined;
    const key = this.cacheKey(ref);
    let data: string | null;
    try {
      data = await this.#connection.run('job-cache.get', (client) => client.hget(key, 'd'));
    } catch (error) {
      this.#report(error);
      return undefined;
    }
    if (data === null) return undefined;
    try {
      const job = parseJobRecord(JSON.parse(data), ref);
      if (job.scopeId !== ref.scopeId || job.id !== ref.jobId) throw new InvalidArgumentError('cache', `entry ${key} holds another job`);
      return job;
    } catch (error) {
      this.#report(error);
      await this.invalidate(ref);
      return undefined;
    }
  }

  async #put(job: JobRecord): Promise<void> {
    try {
      const key = this.cacheKey({ scopeId: job.scopeId, jobId: job.id });
      await this.#connection.run('job-cache.put', (client) => PUT_IF_NEWER.run(client, [key], [job.version, JSON.stringify(job), this.#ttlMs]));
    } catch (error) {
      this.#report(error);
    }
  }

  #report(error: unknown): void {
    try {
      this.#onCacheError(error);
    } catch {
      // Nowhere left to report to.
    }
  }
}
