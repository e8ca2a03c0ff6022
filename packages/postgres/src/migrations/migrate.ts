import { MigrationError } from '../errors/migration-error.js';
import { sqlState } from '../sql/driver-errors.js';
import type { SqlClient } from '../sql/sql-client.js';
import type { Tables } from '../sql/tables.js';
import { MIGRATIONS, LATEST_SCHEMA_VERSION, type Migration } from './migrations.js';

/** Advisory lock class of schema migrations (the second key is the schema name's hash). */
const MIGRATION_LOCK_CLASS = 0x4241_0001;

export interface MigrationResult {
  /** Versions this call applied (empty when the schema was up to date). */
  readonly applied: readonly number[];
  readonly version: number;
}

/**
 * Brings the schema up to date. Safe to call from many processes at once: everything runs in one
 * transaction under a transaction-level advisory lock on the schema name, so one process applies
 * the missing migrations and the others find them applied. A failed migration rolls back whole.
 */
export async function migrateSchema(client: SqlClient, tables: Tables, schemaName: string, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const current = await currentVersion(client, tables);
  if (current !== undefined && current >= latest) {
    if (current > LATEST_SCHEMA_VERSION) throw newerSchema(schemaName, current);
    return { applied: [], version: current };
  }
  try {
    return await client.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::int4, hashtext($2::text))', [MIGRATION_LOCK_CLASS, schemaName]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${tables.schema}`);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${tables.migrations} (version int4 PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await tx.query<{ version: number }>(`SELECT version FROM ${tables.migrations} ORDER BY version`);
      const done = new Set(rows.map((r) => Number(r.version)));
      const highest = Math.max(0, ...done);
      if (highest > LATEST_SCHEMA_VERSION) throw newerSchema(schemaName, highest);
      const applied: number[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        for (const statement of migration.statements(tables)) await tx.query(statement);
        await tx.query(`INSERT INTO ${tables.migrations} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
        applied.push(migration.version);
      }
      return { applied, version: Math.max(highest, ...applied) };
    });
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    throw new MigrationError({ schema: schemaName, message: `migration failed and was rolled back: ${(error as Error).message}`, cause: error });
  }
}

/** The schema's highest applied version, or undefined when it has no migrations table yet. */
export async function currentVersion(client: SqlClient, tables: Tables): Promise<number | undefined> {
  try {
    const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${tables.migrations}`);
    const v = rows[0]?.version;
    return v === null || v === undefined ? undefined : Number(v);
  } catch (error) {
    // 3F000: no such schema; 42P01: no such table.
    const state = sqlState(error);
    if (state === '3F000' || state === '42P01') return undefined;
    throw error;
  }
}

function newerSchema(schema: string, version: number): MigrationError {
  return new MigrationError({
    schema,
    version,
    message: `the database is at schema version ${version}, newer than this package knows (${LATEST_SCHEMA_VERSION}); upgrade @baton/postgres`,
  });
}
