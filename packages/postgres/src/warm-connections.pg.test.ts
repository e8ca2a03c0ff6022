import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '@baton/llm-client';
import { RuntimeKernel, type Workflow } from '@baton/agent-runtime';
import { createPostgresStores, type BatonStores } from './create-stores.js';
import { BatonDatabase, warmStatement } from './database.js';
import { MigrationError } from './errors/migration-error.js';
import { StoreUnavailableError } from './errors/store-unavailable-error.js';
import { PgSqlClient } from './sql/pg-client.js';
import { DATABASE_URL, dropSchema, freshSchemaName, postgresAvailable } from './test-helpers/environment.js';

const available = await postgresAvailable();
const schemas: string[] = [];
const open: Array<{ close(): Promise<void> }> = [];

function schema(): string {
  const s = freshSchemaName();
  schemas.push(s);
  return s;
}
function track<T extends { close(): Promise<void> }>(closable: T): T {
  open.push(closable);
  return closable;
}
function poolOf(stores: BatonStores): pg.Pool {
  return (stores.database.client as PgSqlClient).pool;
}
/** The server processes behind a pool's connections. */
async function backendPids(stores: BatonStores, n: number): Promise<Set<number>> {
  const pool = poolOf(stores);
  const clients = await Promise.all(Array.from({ length: n }, () => pool.connect()));
  try {
    return new Set(await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid)));
  } finally {
    for (const c of clients) c.release();
  }
}

afterAll(async () => {
  for (const c of open) await c.close().catch(() => {});
  for (const s of schemas) await dropSchema(s);
});

describe.skipIf(!available)('Postgres: warmConnections', () => {
  it('opens the connections before the factory returns, migrated, and keeps them past the idle timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const stores = track(await createPostgresStores({ connectionString: DATABASE_URL, schema: schema(), warmConnections: 3, poolConfig: { idleTimeoutMillis: 1_000 } }));
      const pool = poolOf(stores);
      expect(pool.totalCount).toBe(3);
      expect(pool.idleCount).toBe(3);
      expect(pool.options.min).toBe(3);
      vi.advanceTimersByTime(5_000);
      expect(pool.totalCount).toBe(3);
      // Migrated: another database on the same schema finds nothing to apply.
      expect((await new BatonDatabase({ client: stores.database.client, schema: stores.database.schema }).migrate()).applied).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves the pool its own min when poolConfig gives one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const stores = track(await createPostgresStores({ connectionString: DATABASE_URL, schema: schema(), warmConnections: 2, poolConfig: { min: 0, idleTimeoutMillis: 1_000 } }));
      const pool = poolOf(stores);
      expect(pool.totalCount).toBe(2);
      vi.advanceTimersByTime(5_000);
      expect(pool.totalCount).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('runs the warm-up read on every connection it opens', async () => {
    const s = schema();
    const client = track(new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 4 } }));
    await client.query(`CREATE SCHEMA "${s}"`);
    await client.query(`CREATE TABLE "${s}".seen (pid int4)`);
    await client.warm({ connections: 3, statement: `INSERT INTO "${s}".seen VALUES (pg_backend_pid())` });
    const { rows } = await client.query<{ n: number; total: number }>(`SELECT count(DISTINCT pid)::int AS n, count(*)::int AS total FROM "${s}".seen`);
    expect(rows[0]).toEqual({ n: 3, total: 3 });
    expect(client.pool.totalCount).toBe(3);
    // Warm again: the idle connections serve it, none is opened.
    await client.warm({ connections: 3 });
    expect(client.pool.totalCount).toBe(3);
  });

  it('has every table read on each connection by one statement that returns no row', async () => {
    const stores = track(await createPostgresStores({ connectionString: DATABASE_URL, schema: schema() }));
    const statement = warmStatement(stores.database.tables);
    for (const [key, table] of Object.entries(stores.database.tables)) {
      if (key !== 'schema' && key !== 'migrations') expect(statement).toContain(table);
    }
    expect((await stores.database.client.query(statement)).rows).toEqual([]);
  });

  it('warms a pool passed in, which stays open after close()', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
    track({ close: () => pool.end() });
    const stores = await createPostgresStores({ pool, schema: schema(), warmConnections: 3 });
    expect(pool.totalCount).toBe(3);
    expect(pool.options.min).toBe(0);
    await stores.close();
    expect(pool.ended).toBe(false);
  });

  it("rehearses a job's statements on each connection and leaves nothing behind: they are prepared there before the first request", async () => {
    const s = schema();
    const stores = track(await createPostgresStores({ connectionString: DATABASE_URL, schema: s, warmConnections: 3 }));
    const pool = poolOf(stores);
    for (const table of ['jobs', 'journal_entries', 'journal_heads', 'actions', 'events', 'event_seqs'] as const) {
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${s}".${table}`)).rows[0]).toEqual({ n: 0 });
    }
    // Every warmed connection holds the statements a pause and a resume use.
    const clients = await Promise.all(Array.from({ length: 3 }, () => pool.connect()));
    try {
      for (const c of clients) {
        const prepared = (await c.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements')).rows.map((r) => r.statement);
        expect(prepared.some((t) => t.includes(`"${s}"."jobs"`) && t.includes('INSERT'))).toBe(true);
        expect(prepared.some((t) => t.includes('lk AS'))).toBe(true);
        expect(prepared.some((t) => t.includes(`"${s}"."journal_heads"`))).toBe(true);
      }
    } finally {
      for (const c of clients) c.release();
    }
  });

  it('commits a write that changes no value on each connection last, so that a request is not its first commit there', async () => {
    const s = schema();
    const first = await createPostgresStores({ connectionString: DATABASE_URL, schema: s });
    const m = first.database.tables.migrations;
    const read = async (stores: BatonStores) =>
      (await poolOf(stores).query<{ version: number; name: string; applied_at: Date; xmin: string }>(`SELECT version, name, applied_at, xmin::text AS xmin FROM ${m} ORDER BY version`)).rows;
    const before = await read(first);
    await first.close();
    const stores = track(await createPostgresStores({ connectionString: DATABASE_URL, schema: s, autoMigrate: false, warmConnections: 2 }));
    const after = await read(stores);
    expect(after.map(({ xmin: _, ...row }) => row)).toEqual(before.map(({ xmin: _, ...row }) => row));
    // The latest migration's row was written again (a new row version), and by the warm-up only.
    expect(after.at(-1)!.xmin).not.toBe(before.at(-1)!.xmin);
    expect(after.slice(0, -1).map((r) => r.xmin)).toEqual(before.slice(0, -1).map((r) => r.xmin));
  });

  it('a rehearsal that fails changes nothing and does not fail the warm-up', async () => {
    const s = schema();
    const client = track(new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 2 } }));
    await client.query(`CREATE SCHEMA "${s}"`);
    await client.query(`CREATE TABLE "${s}".t (v int4)`);
    const warnings = vi.spyOn(process, 'emitWarning');
    let inserted = 0;
    await client.warm({
      connections: 2,
      rehearse: async (connection) => {
        // Concurrent statements on the one connection take turns.
        await Promise.all([connection.query(`INSERT INTO "${s}".t VALUES (1)`), connection.query(`INSERT INTO "${s}".t VALUES (2)`)]);
        const seen = (await connection.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${s}".t`)).rows[0]!.n;
        inserted += seen;
        await connection.query('SELECT 1/0');
      },
    });
    expect(warnings).not.toHaveBeenCalled();
    warnings.mockRestore();
    // Each connection saw its own two rows inside its transaction; none was kept.
    expect(inserted).toBe(4);
    expect((await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${s}".t`)).rows[0]).toEqual({ n: 0 });
    expect(client.pool.totalCount).toBe(2);
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
  });

  it('answers a resume on a fresh kernel without opening a connection', async () => {
    const s = schema();
    const workflow: Workflow = async (ctx) => {
      await ctx.step('plan', () => 'ship');
      await ctx.waitForAction({ type: 'approval', title: 'Ship it?' });
      return ctx.step('execute', () => 'shipped');
    };
    let token = '';
    const hostA = track(await createPostgresStores({ connectionString: DATABASE_URL, schema: s }));
    const kernelA = RuntimeKernel.create({ stores: hostA, workflows: { w: workflow }, onActionRequired: (info) => (token = info.resumeToken) });
    await (await kernelA.execute({ scopeId: 'scope', principalId: 'user', workflow: 'w', input: null })).settled();
    await kernelA.close();

    const hostB = track(await createPostgresStores({ connectionString: DATABASE_URL, schema: s, autoMigrate: false, warmConnections: 4 }));
    const pids = await backendPids(hostB, 4);
    let opened = 0;
    poolOf(hostB).on('connect', () => opened++);
    const kernelB = RuntimeKernel.create({ stores: hostB, workflows: { w: workflow } });
    const { handle } = await kernelB.resume(token, { approved: true }, { scopeId: 'scope', principalId: 'approver' });
    expect((await handle!.result()).output).toBe('shipped');
    await kernelB.close();
    expect(opened).toBe(0);
    expect(await backendPids(hostB, 4)).toEqual(pids);
  });

  it('opens the listening connection too, unless told not to: a first subscription sends only its LISTEN', async () => {
    const listening = (c: PgSqlClient) => (c as unknown as { listener?: { client?: unknown } }).listener?.client !== undefined;
    const warm = track(new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 2 } }));
    await warm.warm({ connections: 1 });
    expect(listening(warm)).toBe(true);
    const cold = track(new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 2 } }));
    await cold.warm({ connections: 1, listening: false });
    expect(listening(cold)).toBe(false);
  });

  it('refuses warmConnections beyond the pool, opening nothing', async () => {
    await expect(createPostgresStores({ connectionString: DATABASE_URL, schema: schema(), warmConnections: 11 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(createPostgresStores({ connectionString: DATABASE_URL, schema: schema(), warmConnections: 3, poolConfig: { max: 2 } })).rejects.toThrow(/at most the pool's max \(2\)/);
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    track({ close: () => pool.end() });
    await expect(createPostgresStores({ pool, schema: schema(), warmConnections: 3 })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(pool.totalCount).toBe(0);
    const client = track(new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 2 } }));
    for (const connections of [3, -1, 0.5, Number.NaN]) await expect(client.warm({ connections })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(client.pool.totalCount).toBe(0);
  });

  it('with autoMigrate false, fails with MigrationError on a schema nobody migrated', async () => {
    const client = track(new PgSqlClient({ connectionString: DATABASE_URL }));
    const error = await createPostgresStores({ client, schema: schema(), autoMigrate: false, warmConnections: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    await expect(new BatonDatabase({ client, schema: schema(), autoMigrate: false }).warm()).rejects.toBeInstanceOf(MigrationError);
  });

  it('fails with StoreUnavailableError when the server cannot be reached', async () => {
    const unreachable = 'postgres://postgres@127.0.0.1:1/none';
    const error = await createPostgresStores({ connectionString: unreachable, warmConnections: 2, poolConfig: { connectionTimeoutMillis: 2_000 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    const client = track(new PgSqlClient({ connectionString: unreachable, poolConfig: { connectionTimeoutMillis: 2_000 } }));
    await expect(client.warm({ connections: 2 })).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(client.pool.totalCount).toBe(0);
  });

  it('gives every connection back when the warm-up statement fails on them', async () => {
    const client = track(new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 2 } }));
    await expect(client.warm({ connections: 2, statement: 'SELECT * FROM no_such_table_anywhere' })).rejects.toMatchObject({ code: '42P01' });
    expect(client.pool.waitingCount).toBe(0);
    expect(client.pool.totalCount).toBe(client.pool.idleCount);
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});
