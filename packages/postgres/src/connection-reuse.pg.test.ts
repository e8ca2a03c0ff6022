import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from './errors/store-unavailable-error.js';
import { PgSqlClient } from './sql/pg-client.js';
import { DATABASE_URL, postgresAvailable } from './test-helpers/environment.js';

const available = await postgresAvailable();
const clients: PgSqlClient[] = [];

/** Opens of new connections wait until `open()` is called: which connection serves a statement is then up to the test. */
class Gate {
  private pending: Array<() => void> = [];
  closed = false;
  opened = 0;
  wait(): Promise<void> {
    if (!this.closed) return Promise.resolve();
    return new Promise((resolve) => this.pending.push(resolve));
  }
  open(): void {
    this.closed = false;
    for (const resolve of this.pending.splice(0)) resolve();
  }
}

function gatedClient(gate: Gate, max = 4): PgSqlClient {
  class GatedPgClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super(config);
      const connect = (pg.Client.prototype.connect as () => Promise<unknown>).bind(this);
      // The pool connects with a callback.
      Object.assign(this, {
        connect: (callback: (error: Error | null) => void) => {
          gate.wait().then(connect).then(() => {
            gate.opened++;
            callback(null);
          }, callback);
        },
      });
    }
  }
  const c = new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max, Client: GatedPgClient as unknown as new () => pg.ClientBase } });
  clients.push(c);
  return c;
}

async function pid(client: PgSqlClient, sleepSeconds = 0): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep($1)', [sleepSeconds]);
  return rows[0]!.pid;
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
});

describe.skipIf(!available)('Postgres: a statement takes the first connection ready', () => {
  it('waits for a busy connection given back before a new one opens, and the new one joins the pool', async () => {
    const gate = new Gate();
    const client = gatedClient(gate);
    const first = await pid(client);
    gate.closed = true;
    // Both start in the same tick: one takes the idle connection, the other opens a new one but
    // is served by the first connection once it is given back.
    const [a, b] = await Promise.all([pid(client), pid(client)]);
    expect([a, b]).toEqual([first, first]);
    expect(gate.opened).toBe(1);
    gate.open();
    await until(() => client.pool.totalCount === 2 && client.pool.idleCount === 2);
    expect(gate.opened).toBe(2);
  });

  it('takes the new connection when it is ready first', async () => {
    const client = gatedClient(new Gate());
    const first = await pid(client);
    const slow = pid(client, 0.5);
    const fast = await pid(client);
    expect(fast).not.toBe(first);
    expect(await slow).toBe(first);
  });

  it('fails with StoreUnavailableError when the new connection fails before one is given back', async () => {
    const client = new PgSqlClient({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    clients.push(client);
    await expect(client.query('SELECT 1')).rejects.toBeInstanceOf(StoreUnavailableError);
    const [a, b] = await Promise.allSettled([client.query('SELECT 1'), client.query('SELECT 1')]);
    expect(a.status === 'rejected' && a.reason instanceof StoreUnavailableError).toBe(true);
    expect(b.status === 'rejected' && b.reason instanceof StoreUnavailableError).toBe(true);
  });

  it('serves many concurrent statements with no more connections than the pool allows', async () => {
    const client = gatedClient(new Gate(), 3);
    const pids = await Promise.all(Array.from({ length: 30 }, (_, i) => pid(client, i % 3 === 0 ? 0.01 : 0)));
    expect(new Set(pids).size).toBeLessThanOrEqual(3);
    expect(client.pool.totalCount).toBeLessThanOrEqual(3);
    await until(() => client.pool.waitingCount === 0 && client.pool.idleCount === client.pool.totalCount);
  });
});

describe.skipIf(!available)('Postgres: a refused statement keeps its connection', () => {
  it('keeps the connection, and the statements prepared on it, after a statement the server refused', async () => {
    const client = new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 4 } });
    clients.push(client);
    const before = await pid(client);
    await client.query('SELECT $1::int AS n', [1], { prepare: true });
    for (const refused of ['SELECT * FROM no_such_table_anywhere', 'SELECT 1/0']) await expect(client.query(refused)).rejects.toHaveProperty('code');
    await expect(client.query('SELECT $1::int AS n', ['not a number'], { prepare: true })).rejects.toMatchObject({ code: '22P02' });
    expect(await pid(client)).toBe(before);
    expect(client.pool.totalCount).toBe(1);
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements');
    expect(rows[0]!.n).toBeGreaterThanOrEqual(1);
  });

  it('drops a connection the server ended, and the next statement opens another', async () => {
    const client = new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 1 } });
    clients.push(client);
    const before = await pid(client);
    await expect(client.query('SELECT pg_terminate_backend(pg_backend_pid())')).rejects.toBeInstanceOf(StoreUnavailableError);
    const after = await pid(client);
    expect(after).not.toBe(before);
    expect(client.pool.totalCount).toBe(1);
  });
});
