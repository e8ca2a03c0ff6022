import type { PGliteInterface } from '@electric-sql/pglite';
import type pg from 'pg';
import { InvalidArgumentError } from '@baton/llm-client';
import { MigrationError } from './errors/migration-error.js';
import { currentVersion, migrateSchema, type MigrationResult } from './migrations/migrate.js';
import { LATEST_SCHEMA_VERSION } from './migrations/migrations.js';
import { validateSchemaName } from './sql/identifiers.js';
import { PgSqlClient } from './sql/pg-client.js';
import { PgliteSqlClient } from './sql/pglite-client.js';
import type { SqlClient, WarmOptions } from './sql/sql-client.js';
import { tablesOf, type Tables } from './sql/tables.js';

export const DEFAULT_SCHEMA = 'baton';

/** Where a store's data lives. Give exactly one of `connectionString`, `pool`, `pglite`, `client`, `database`. */
export interface PostgresConnectionOptions {
  /** A `postgres://` URL: the store opens its own pool and ends it on `close()`. */
  connectionString?: string | undefined;
  /** Settings for a pool opened from `connectionString`. */
  poolConfig?: Omit<pg.PoolConfig, 'connectionString'> | undefined;
  /** Prepare the per-step statements on a server (default true); see `PgSqlClientOptions`. */
  preparedStatements?: boolean | undefined;
  /** An existing `pg.Pool` (never ended by the store). */
  pool?: pg.Pool | undefined;
  /** An existing PGlite instance (never closed by the store). */
  pglite?: PGliteInterface | undefined;
  /** Any `SqlClient` (never closed by the store). */
  client?: SqlClient | undefined;
  /** A `BatonDatabase` shared with other stores (never closed by the store). */
  database?: BatonDatabase | undefined;
  /** The Postgres schema holding the tables, so that several apps can share a database. Default `baton`. */
  schema?: string | undefined;
  /** Run pending migrations on first use (default true); with false, call `migrate()` yourself. */
  autoMigrate?: boolean | undefined;
}

/**
 * A SQL client bound to one schema, migrated once. Stores built on the same `BatonDatabase`
 * share its connections and its migration.
 */
export class BatonDatabase {
  readonly client: SqlClient;
  readonly schema: string;
  readonly tables: Tables;
  private readonly ownsClient: boolean;
  private readonly autoMigrate: boolean;
  private migration: Promise<MigrationResult> | undefined;
  private checked: Promise<void> | undefined;

  constructor(options: { client: SqlClient; schema?: string | undefined; ownsClient?: boolean; autoMigrate?: boolean | undefined }) {
    this.client = options.client;
    this.schema = validateSchemaName(options.schema ?? DEFAULT_SCHEMA);
    this.tables = tablesOf(this.schema);
    this.ownsClient = options.ownsClient ?? false;
    this.autoMigrate = options.autoMigrate ?? true;
  }

  /** Applies pending migrations (idempotent; concurrent calls share one run). */
  migrate(): Promise<MigrationResult> {
    this.migration ??= migrateSchema(this.client, this.tables, this.schema).catch((error: unknown) => {
      this.migration = undefined;
      throw error;
    });
    return this.migration;
  }

  /**
   * Awaited by every store call: migrates on first use, or, with `autoMigrate: false`, checks
   * once that someone did (`MigrationError` saying so otherwise, instead of "no such table").
   */
  async ready(): Promise<void> {
    if (this.autoMigrate) {
      await this.migrate();
      return;
    }
    this.checked ??= currentVersion(this.client, this.tables).then(
      (version) => {
        if (version === undefined || version < LATEST_SCHEMA_VERSION) {
          throw new MigrationError({
            schema: this.schema,
            version,
            message: `the schema is at version ${version ?? 'none'}, this package needs ${LATEST_SCHEMA_VERSION}; call migrate() (autoMigrate is false)`,
          });
        }
      },
      (error: unknown) => {
        this.checked = undefined;
        throw error;
      },
    );
    try {
      await this.checked;
    } catch (error) {
      this.checked = undefined;
      throw error;
    }
  }

  /**
   * Gets the database ready before its first request: migrates or checks the schema as `ready()`
   * does, then has `connections` connections open (default 1; at most the pool's `max`), on each
   * of which the server has planned a read of every table and committed a write that changes no
   * value (`warmCommit`), so that a request's statements wait neither for a connection nor for
   * the server to load the tables' metadata, and its first write is not the connection's first
   * commit. On a client without
   * connections of its own to open (PGlite, a `SqlClient` without `warm`), the read runs once.
   * Safe to call again and concurrently. `InvalidArgumentError` for a bad `connections`.
   */
  async warm(options: { connections?: number | undefined; rehearse?: WarmOptions['rehearse'] } = {}): Promise<void> {
    const connections = options?.connections ?? 1;
    if (typeof connections !== 'number' || !Number.isInteger(connections) || connections < 0) {
      throw new InvalidArgumentError('connections', `must be a whole number ≥ 0 (got ${String(connections)})`);
    }
    await this.ready();
    const statement = warmStatement(this.tables);
    if (this.client.warm) await this.client.warm({ connections, statement, rehearse: options.rehearse, commit: warmCommit(this.tables) });
    else if (connections > 0) await this.client.query(statement);
  }

  /** Closes the client if this database opened it. */
  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }
}

/**
 * One statement that reads no row but makes the server plan a read of every table of the schema
 * (the migrations table aside): on a new connection that loads each table's and index's metadata,
 * which the first statements of a request would otherwise wait for.
 */
export function warmStatement(tables: Tables): string {
  const names = Object.entries(tables).flatMap(([key, name]) => (key === 'schema' || key === 'migrations' ? [] : [name]));
  return names.map((name) => `(SELECT 1 FROM ${name} LIMIT 0)`).join(' UNION ALL ');
}

/**
 * The committed write of a warm-up (`WarmOptions.commit`): the schema's latest migration row set
 * to what it holds, with a notification on a channel no store listens to — the commit path a
 * request's writes take (a transaction id, a row version, a WAL flush, a notification), changing
 * no value anywhere.
 */
export function warmCommit(tables: Tables): string {
  const m = tables.migrations;
  return `WITH u AS (UPDATE ${m} SET name = name WHERE version = (SELECT max(version) FROM ${m}) RETURNING 1) SELECT pg_notify('baton_warm_up', '') FROM u`;
}

/** Resolves a store's connection options to a database, and whether the store owns it. */
export function resolveDatabase(options: PostgresConnectionOptions): { database: BatonDatabase; owned: boolean } {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'expected an options object');
  const given = (['connectionString', 'pool', 'pglite', 'client', 'database'] as const).filter((k) => options[k] !== undefined);
  if (given.length !== 1) {
    throw new InvalidArgumentError('options', `give exactly one of connectionString, pool, pglite, client, database (got ${given.length ? given.join(', ') : 'none'})`);
  }
  if (options.database) {
    if (options.schema !== undefined && options.schema !== options.database.schema) {
      throw new InvalidArgumentError('schema', `the database is bound to schema '${options.database.schema}'`);
    }
    return { database: options.database, owned: false };
  }
  const schema = options.schema;
  const autoMigrate = options.autoMigrate;
  if (options.client) return { database: new BatonDatabase({ client: options.client, schema, autoMigrate }), owned: true };
  // The wrappers below are ours to close; each leaves a pool or instance it was given open.
  if (options.pglite) return { database: new BatonDatabase({ client: new PgliteSqlClient(options.pglite), schema, autoMigrate, ownsClient: true }), owned: true };
  const client = new PgSqlClient({ connectionString: options.connectionString, pool: options.pool, poolConfig: options.poolConfig, preparedStatements: options.preparedStatements });
  return { database: new BatonDatabase({ client, schema, autoMigrate, ownsClient: true }), owned: true };
}
