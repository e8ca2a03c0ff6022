import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@baton/llm-client';
import { createPostgresStores } from './create-stores.js';
import { BatonDatabase } from './database.js';
import { MigrationError } from './errors/migration-error.js';
import { PgliteSqlClient } from './sql/pglite-client.js';
import type { SqlClient } from './sql/sql-client.js';

let pglite: PGlite;

beforeAll(async () => {
  pglite = await PGlite.create('memory://');
});
afterAll(async () => {
  await pglite.close();
});

/** A PGlite client that records the statements it runs. */
function recording(): { client: SqlClient; statements: string[] } {
  const inner = new PgliteSqlClient(pglite);
  const statements: string[] = [];
  const client: SqlClient = {
    kind: inner.kind,
    query: (text, params, options) => {
      statements.push(text);
      return inner.query(text, params, options);
    },
    transaction: (fn) => inner.transaction(fn),
    close: () => inner.close(),
  };
  return { client, statements };
}

describe('warmConnections: bad input', () => {
  it('refuses a value that is not a whole number ≥ 0 with InvalidArgumentError, before connecting', async () => {
    // Port 1: nothing listens there, so getting past validation would fail differently.
    for (const warmConnections of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number]) {
      const error = await createPostgresStores({ connectionString: 'postgres://postgres@127.0.0.1:1/none', warmConnections }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe('warmConnections');
    }
  });

  it('refuses a bad connections count in BatonDatabase.warm', async () => {
    const db = new BatonDatabase({ client: new PgliteSqlClient(pglite), schema: 'warm_bad_input' });
    for (const connections of [-1, 2.5]) await expect(db.warm({ connections })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('BatonDatabase.warm on PGlite', () => {
  it('migrates, then reads every table once on its single connection', async () => {
    const { client, statements } = recording();
    const db = new BatonDatabase({ client, schema: 'warm_pglite' });
    await db.warm({ connections: 3 });
    expect((await new BatonDatabase({ client, schema: db.schema }).migrate()).applied).toEqual([]);
    const reads = statements.filter((s) => s.includes('LIMIT 0'));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toContain(db.tables.jobs);
    expect(reads[0]).toContain(db.tables.queue);
  });

  it('with autoMigrate false, fails with MigrationError until the schema is migrated', async () => {
    const { client, statements } = recording();
    const db = new BatonDatabase({ client, schema: 'warm_pglite_unmigrated', autoMigrate: false });
    await expect(db.warm()).rejects.toBeInstanceOf(MigrationError);
    expect(statements.some((s) => s.includes('LIMIT 0'))).toBe(false);
    await db.migrate();
    await db.warm();
    expect(statements.filter((s) => s.includes('LIMIT 0'))).toHaveLength(1);
  });

  it('with no connection asked for, only readies the schema', async () => {
    const { client, statements } = recording();
    const db = new BatonDatabase({ client, schema: 'warm_pglite_zero' });
    await db.warm({ connections: 0 });
    expect(statements.some((s) => s.includes('LIMIT 0'))).toBe(false);
    expect((await db.migrate()).version).toBeGreaterThan(0);
  });
});
