import { InvalidArgumentError } from '@baton/llm-client';
import { Redis, type RedisOptions } from 'ioredis';
import { RedisAdapterClosedError } from '../errors/redis-adapter-closed-error.js';
import { mapRedisError } from '../errors/map-redis-error.js';
import { RedisUnavailableError } from '../errors/redis-unavailable-error.js';

/** How every adapter of this package gets to Redis: an existing client, or a URL. */
export interface RedisConnectionOptions {
  /**
   * An ioredis client the caller owns. The adapter runs its commands on it and never closes it;
   * connections it needs in addition (a subscriber, blocking reads) are `duplicate()`s that it
   * opens and closes itself.
   */
  readonly client?: Redis | undefined;
  /** `redis://…` or `rediss://…`: the adapter opens its own connections and closes them all in `close()`. */
  readonly url?: string | undefined;
  /**
   * ioredis options for the connections opened from `url`. Defaults here: `maxRetriesPerRequest`
   * 5 (a command waits for about that many reconnect attempts, then fails with
   * `RedisUnavailableError`) and `connectTimeout` 5,000 ms.
   */
  readonly redisOptions?: RedisOptions | undefined;
  /** Name (`CLIENT SETNAME`) of the connections this adapter opens; extra ones get a suffix (`:sub`, `:block`). */
  readonly connectionName?: string | undefined;
  /** Called with errors of the connections this adapter opened (refused, reset…). Default: ignored; ioredis reconnects. */
  readonly onConnectionError?: ((error: RedisUnavailableError) => void) | undefined;
}

const DEFAULT_REDIS_OPTIONS: RedisOptions = { maxRetriesPerRequest: 5, connectTimeout: 5_000 };
const QUIT_TIMEOUT_MS = 1_000;

/**
 * The connections of one adapter: the command connection (borrowed or owned) and the extra
 * ones it opened. `close()` closes only what was opened here. Not exported from the package.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly #adapter: string;
  readonly #owned: boolean;
  readonly #url: string | undefined;
  readonly #redisOptions: RedisOptions;
  readonly #name: string | undefined;
  readonly #onError: (error: RedisUnavailableError) => void;
  readonly #extra = new Set<Redis>();
  #closed = false;

  constructor(adapter: string, options: RedisConnectionOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'expected an options object');
    const { client, url } = options;
    if ((client === undefined) === (url === undefined)) throw new InvalidArgumentError('client', 'pass exactly one of client or url');
    if (options.connectionName !== undefined && (typeof options.connectionName !== 'string' || !/^[^\s]+$/.test(options.connectionName))) {
      throw new InvalidArgumentError('connectionName', 'must be a non-empty string without spaces');
    }
    if (options.onConnectionError !== undefined && typeof options.onConnectionError !== 'function') throw new InvalidArgumentError('onConnectionError', 'must be a function');
    this.#adapter = adapter;
    this.#name = options.connectionName;
    this.#onError = options.onConnectionError ?? (() => {});
    this.#redisOptions = { ...DEFAULT_REDIS_OPTIONS, ...options.redisOptions };
    if (client !== undefined) {
      if (!isRedisClient(client)) throw new InvalidArgumentError('client', 'expected an ioredis client');
      this.client = client;
      this.#owned = false;
      this.#url = undefined;
    } else {
      this.#url = checkUrl(url);
      this.client = this.#open(this.#name);
      this.#owned = true;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Opens a dedicated connection (subscriber, blocking reads), closed by `release` or `close`. */
  openExtra(suffix: string): Redis {
    this.assertOpen();
    const name = this.#name === undefined ? undefined : `${this.#name}:${suffix}`;
    const extra = this.#owned ? this.#open(name) : this.#duplicate(name);
    this.#extra.add(extra);
    return extra;
  }

  /** Closes a connection opened by `openExtra`. */
  async release(extra: Redis): Promise<void> {
    if (!this.#extra.delete(extra)) return;
    await shutdown(extra);
  }

  /** Runs `fn` on the command connection; driver errors come out typed (`mapRedisError`). */
  async run<T>(operation: string, fn: (client: Redis) => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await fn(this.client);
    } catch (error) {
      throw mapRedisError(error, operation);
    }
  }

  assertOpen(): void {
    if (this.#closed) throw new RedisAdapterClosedError(this.#adapter);
  }

  /** Closes the extra connections and, when it was opened from a URL, the command connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const all = [...this.#extra];
    this.#extra.clear();
    if (this.#owned) all.push(this.client);
    await Promise.all(all.map(shutdown));
  }

  #open(connectionName: string | undefined): Redis {
    const options: RedisOptions = { ...this.#redisOptions };
    if (connectionName !== undefined) options.connectionName = connectionName;
    return this.#watch(new Redis(this.#url as string, options));
  }

  #duplicate(connectionName: string | undefined): Redis {
    return this.#watch(this.client.duplicate(connectionName === undefined ? {} : { connectionName }));
  }

  #watch(redis: Redis): Redis {
    redis.on('error', (error: unknown) => {
      const mapped = mapRedisError(error, `${this.#adapter} connection`);
      const typed = mapped instanceof RedisUnavailableError ? mapped : new RedisUnavailableError({ operation: `${this.#adapter} connection`, message: String((error as Error)?.message ?? error), cause: error });
      try {
        this.#onError(typed);
      } catch {
        // A failing error listener must not become an unhandled 'error' event.
      }
    });
    return redis;
  }
}

/** `quit` (waits for pending replies) with a bound, then `disconnect`. */
async function shutdown(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([redis.quit().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

function checkUrl(url: unknown): string {
  if (typeof url !== 'string') throw new InvalidArgumentError('url', 'must be a string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError('url', 'not a URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new InvalidArgumentError('url', "must start with 'redis://' or 'rediss://'");
  return url;
}

function isRedisClient(value: unknown): value is Redis {
  return typeof value === 'object' && value !== null && typeof (value as Redis).duplicate === 'function' && typeof (value as Redis).call === 'function';
}
