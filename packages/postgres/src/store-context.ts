import { resolveDatabase, type BatonDatabase, type PostgresConnectionOptions } from './database.js';
import type { MigrationResult } from './migrations/migrate.js';
import type { SqlClient } from './sql/sql-client.js';
import type { Tables } from './sql/tables.js';

/**
 * What every store holds: its database (opened from the options, or shared), whether it owns it,
 * and the lifecycle every store exposes (`setup`/`migrate`, `close`).
 */
export class StoreContext {
  readonly database: BatonDatabase;
  readonly tables: Tables;
  private readonly owned: boolean;
  private closed = false;

  constructor(options: PostgresConnectionOptions) {
    const { database, owned } = resolveDatabase(options);
    this.database = database;
    this.owned = owned;
    this.tables = database.tables;
  }

  /** The client, once the schema is migrated (on first use). */
  async sql(): Promise<SqlClient> {
    await this.database.ready();
    return this.database.client;
  }

  migrate(): Promise<MigrationResult> {
    return this.database.migrate();
  }

  /** Closes the database when this store opened it; a shared one is left open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) await this.database.close();
  }
}
