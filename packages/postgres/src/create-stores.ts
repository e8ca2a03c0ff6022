import type { PGliteInterface } from '@electric-sql/pglite';
import type pg from 'pg';
import { InvalidArgumentError } from '@baton/llm-client';
import { BatonDatabase } from './database.js';
import { PostgresEventBus } from './events/postgres-event-bus.js';
import type { MigrationResult } from './migrations/migrate.js';
import { PostgresJobQueue } from './queue/postgres-job-queue.js';
import { pruneFinished, type PruneFinishedOptions, type PruneFinishedResult } from './retention/prune-finished.js';
import { DEFAULT_POOL_MAX, PgSqlClient } from './sql/pg-client.js';
import { PgliteSqlClient } from './sql/pglite-client.js';
import type { SqlClient } from './sql/sql-client.js';
import { PostgresActionStore } from './stores/postgres-action-store.js';
import { PostgresJobStore } from './stores/postgres-job-store.js';
import { PostgresJournalStore } from './stores/postgres-journal-store.js';
import { PostgresLedgerWriter } from './stores/postgres-ledger-writer.js';
import { PostgresSignalChannel } from './stores/postgres-signal-channel.js';
import { rehearseJobs } from './warm-rehearsal.js';

/** Every port of the runtime on one database and schema, sharing its connections. */
export interface BatonStores {
  readonly database: BatonDatabase;
  readonly jobs: PostgresJobStore;
  readonly journal: PostgresJournalStore;
  readonly events: PostgresEventBus;
  readonly actions: PostgresActionStore;
  readonly ledger: PostgresLedgerWriter;
  readonly queue: PostgresJobQueue;
  readonly signals: PostgresSignalChannel;
  /** Applies pending migrations (idempotent; already done by the factory unless `autoMigrate` is false). */
  migrate(): Promise<MigrationResult>;
  /** Removes finished jobs' journals, events and queue rows past a TTL (see `pruneFinished`). */
  pruneFinished(options: PruneFinishedOptions): Promise<PruneFinishedResult>;
  /** Closes what the factory opened (a pool from a URL, a PGlite directory); a pool or client passed in stays open. */
  close(): Promise<void>;
}

export interface CommonStoreOptions {
  /** The Postgres schema holding the tables (several apps can share a database). Default `baton`. */
  schema?: string | undefined;
  /** Migrate when the stores are created (default true); with false, call `migrate()` yourself. */
  autoMigrate?: boolean | undefined;
  /** Queue: claims after which an unacked job is dead-lettered. Default 5. */
  maxClaims?: number | undefined;
  /** Epoch milliseconds for the queue, journal and event bus; injectable for tests. */
  now?: (() => number) | undefined;
}

export interface CreatePostgresStoresOptions extends CommonStoreOptions {
  /** A `postgres://` URL: a pool is opened, and ended by `close()`. */
  connectionString?: string | undefined;
  poolConfig?: Omit<pg.PoolConfig, 'connectionString'> | undefined;
  /** Prepare the per-step statements (default true); turn off behind a pooler that cannot keep them. */
  preparedStatements?: boolean | undefined;
  /** An existing pool (left open by `close()`). */
  pool?: pg.Pool | undefined;
  /** An existing `SqlClient` (left open by `close()`). */
  client?: SqlClient | undefined;
  /**
   * Connections to open before the factory returns (default 0: opened by the first statements
   * that need them). The schema is then migrated or checked, and each connection has had the
   * server load the tables' metadata (`BatonDatabase.warm`) and has rehearsed a job's life in a
   * transaction rolled back (its statements stay prepared there, no row stays), then committed a
   * write that changes no value (a server process's first commits are its slowest), so that a host
   * started ahead of its first request answers it without connecting or planning cold. A pool opened from `connectionString` keeps
   * them open until `close()` (its `min`, unless `poolConfig.min` says otherwise); a `pool` you
   * pass keeps them as its own settings say. A resume on a fresh kernel uses three at once.
   */
  warmConnections?: number | undefined;
}

export interface CreateEmbeddedStoresOptions extends CommonStoreOptions {
  /**
   * The directory PGlite keeps the database in (created with its parents when absent), or
   * `memory://`. Default `./.baton-data`. Held exclusively until `close()`: see `createEmbeddedStores`.
   */
  dir?: string | undefined;
  /** An existing PGlite instance instead of `dir` (left open by `close()`). */
  pglite?: PGliteInterface | undefined;
}

export const DEFAULT_EMBEDDED_DIR = './.baton-data';

/** Every store on a Postgres server: from a URL, a `pg.Pool`, or any `SqlClient`. */
export async function createPostgresStores(options: CreatePostgresStoresOptions): Promise<BatonStores> {
  const given = (['connectionString', 'pool', 'client'] as const).filter((k) => options?.[k] !== undefined);
  if (given.length !== 1) throw new InvalidArgumentError('options', `give exactly one of connectionString, pool, client (got ${given.length ? given.join(', ') : 'none'})`);
  const warmConnections = options.warmConnections ?? 0;
  if (typeof warmConnections !== 'number' || !Number.isInteger(warmConnections) || warmConnections < 0) {
    throw new InvalidArgumentError('warmConnections', `must be a whole number ≥ 0 (got ${String(warmConnections)})`);
  }
  const max = options.pool?.options.max ?? (options.connectionString !== undefined ? (options.poolConfig?.max ?? DEFAULT_POOL_MAX) : undefined);
  if (max !== undefined && warmConnections > max) throw new InvalidArgumentError('warmConnections', `at most the pool's max (${max}), got ${warmConnections}`);
  // Connections warmed on a pool we open stay open (its min) unless the caller set min.
  const poolConfig = warmConnections > 0 && options.poolConfig?.min === undefined ? { ...options.poolConfig, min: warmConnections } : options.poolConfig;
  const client = options.client ?? new PgSqlClient({
      connectionString: options.connectionString,
      pool: options.pool,
      poolConfig,
      preparedStatements: options.preparedStatements,
    });
  // A client passed in stays the caller's; the pg wrapper is ours (it ends only a pool it opened).
  return assemble(new BatonDatabase({ client, schema: options.schema, autoMigrate: options.autoMigrate, ownsClient: options.client === undefined }), options, warmConnections);
}

/**
 * Every store on embedded PGlite, kept in a directory: a job paused by one process is there for
 * the next one that opens the same directory. One process at a time may open a directory: a lock
 * file in it names the holder, and another open (in any process, this one included) fails with
 * `EmbeddedDirectoryLockedError` until the holder calls `close()` or exits, even by a crash.
 */
export async function createEmbeddedStores(options: CreateEmbeddedStoresOptions = {}): Promise<BatonStores> {
  if (options.pglite !== undefined && options.dir !== undefined) throw new InvalidArgumentError('dir', 'give either dir or pglite, not both');
  const client = options.pglite ? new PgliteSqlClient(options.pglite) : await PgliteSqlClient.open({ dataDir: options.dir ?? DEFAULT_EMBEDDED_DIR });
  return assemble(new BatonDatabase({ client, schema: options.schema, autoMigrate: options.autoMigrate, ownsClient: true }), options);
}

async function assemble(database: BatonDatabase, options: CommonStoreOptions, warmConnections = 0): Promise<BatonStores> {
  try {
    if (warmConnections > 0) await database.warm({ connections: warmConnections, rehearse: (connection) => rehearseJobs(connection, database.schema) });
    else if (options.autoMigrate !== false) await database.migrate();
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  const now = options.now;
  const events = new PostgresEventBus({ database, now });
  const signals = new PostgresSignalChannel({ database });
  let closed = false;
  return {
    database,
    jobs: new PostgresJobStore({ database }),
    journal: new PostgresJournalStore({ database, now }),
    events,
    actions: new PostgresActionStore({ database }),
    ledger: new PostgresLedgerWriter({ database }),
    queue: new PostgresJobQueue({ database, now, maxClaims: options.maxClaims }),
    signals,
    migrate: () => database.migrate(),
    pruneFinished: (prune) => pruneFinished(database, { now, ...prune }),
    async close() {
      if (closed) return;
      closed = true;
      await events.close();
      await signals.close();
      await database.close();
    },
  };
}
