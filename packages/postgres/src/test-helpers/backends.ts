import { PGlite } from '@electric-sql/pglite';
import { BatonDatabase } from '../database.js';
import { PgSqlClient } from '../sql/pg-client.js';
import { PgliteSqlClient } from '../sql/pglite-client.js';
import type { SqlClient } from '../sql/sql-client.js';
import { DATABASE_URL, dropSchema, freshSchemaName } from './environment.js';

/**
 * One shared connection per test file (a PGlite instance in memory, or a pool on the Postgres
 * server), and a fresh schema per suite on it. `cleanup` empties the suite's tables between tests;
 * `close` drops the schemas (on the server) and closes the connection.
 */
export interface TestBackend {
  readonly name: 'pglite' | 'postgres';
  client(): Promise<SqlClient>;
  /** A migrated database on a new schema of this backend. */
  freshDatabase(): Promise<BatonDatabase>;
  /** Empties tables of the database's schema between tests (default: every table). */
  truncate(database: BatonDatabase, only?: (tables: BatonDatabase['tables']) => string[]): Promise<void>;
  close(): Promise<void>;
}

export function pgliteBackend(): TestBackend {
  let client: Promise<PgliteSqlClient> | undefined;
  const open = () => (client ??= PGlite.create('memory://').then((db) => new PgliteSqlClient(db, { owned: true })));
  return backend('pglite', open, async () => {});
}

export function postgresBackend(): TestBackend {
  let client: PgSqlClient | undefined;
  const open = async () => (client ??= new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 8 } }));
  return backend('postgres', open, dropSchema);
}

function backend(name: 'pglite' | 'postgres', open: () => Promise<SqlClient>, drop: (schema: string) => Promise<void>): TestBackend {
  const schemas: string[] = [];
  let opened = false;
  return {
    name,
    client: () => {
      opened = true;
      return open();
    },
    async freshDatabase() {
      opened = true;
      const schema = freshSchemaName();
      schemas.push(schema);
      const database = new BatonDatabase({ client: await open(), schema });
      await database.migrate();
      return database;
    },
    async truncate(database, only) {
      const t = database.tables;
      if (only) {
        for (const table of only(t)) await database.client.query(`DELETE FROM ${table}`);
        return;
      }
      const tables = [t.jobs, t.journalHeads, t.journalEntries, t.sharedData, t.sharedLog, t.deferredEvents, t.eventSeqs, t.events, t.actions, t.ledgerEvents, t.ledgerReservations, t.ledgerBudgets, t.queue];
      await database.client.query(`TRUNCATE ${tables.join(', ')}`);
    },
    async close() {
      if (!opened) return;
      for (const schema of schemas) await drop(schema);
      await (await open()).close();
    },
  };
}
