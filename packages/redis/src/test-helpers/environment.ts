import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const IN_CI = process.env.CI === 'true';

/**
 * Whether the Redis server of `REDIS_URL` answers. When it does not, the Redis tests skip with
 * one line saying why, except in CI (`CI=true`), where they must run: there this throws.
 */
export async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: Error | undefined;
  probe.on('error', (error: Error) => (cause ??= error));
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (error) {
    const why = `Redis at ${REDIS_URL.replace(/\/\/[^@]*@/, '//')} is unreachable (${(cause ?? (error as Error)).message})`;
    if (IN_CI) throw new Error(`${why}; CI=true requires it`);
    console.warn(`[redis tests] skipped: ${why}; set REDIS_URL or start redis-server to run them`);
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A key prefix no other run uses: `baton-test:<random>:`. */
export function freshPrefix(): string {
  return `baton-test:${randomBytes(6).toString('hex')}:`;
}

/** A connection for the test itself (admin commands, planting raw values, cleanup). */
export function testClient(connectionName?: string): Redis {
  const client = new Redis(REDIS_URL, connectionName === undefined ? {} : { connectionName });
  client.on('error', () => {});
  return client;
}

/** Deletes every key under `prefix` (SCAN + UNLINK); returns how many. */
export async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Ids of the server's connections named `name` (CLIENT LIST). */
export async function connectionIds(admin: Redis, name: string): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.split(' ').includes(`name=${name}`))
    .map((line) => /(?:^| )id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
}

/** Kills the connections named `name` from another connection (CLIENT KILL ID); returns how many. */
export async function killConnections(admin: Redis, name: string): Promise<number> {
  let killed = 0;
  for (const id of await connectionIds(admin, name)) killed += Number(await admin.client('KILL', 'ID', id));
  return killed;
}

/** Polls `condition` until it holds or `timeoutMs` passes. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A describe block's own key prefix (and its random tag, for connection names) and an admin
 * connection, opened before its tests; afterwards the prefix's keys are deleted and the admin
 * connection closed. Call it in the block's body.
 */
export function useTestPrefix(): { readonly prefix: string; readonly tag: string; admin(): Redis } {
  const prefix = freshPrefix();
  let admin: Redis | undefined;
  beforeAll(() => {
    admin = testClient();
  });
  afterAll(async () => {
    if (!admin) return;
    await deleteKeys(admin, prefix);
    await admin.quit();
  });
  return {
    prefix,
    tag: prefix.split(':')[1] as string,
    admin: () => admin!,
  };
}
