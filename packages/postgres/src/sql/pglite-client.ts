import { mkdir } from 'node:fs/promises';
import { PGlite, type PGliteInterface } from '@electric-sql/pglite';
import { InvalidArgumentError } from '@baton/llm-client';
import { DirectoryLock } from './directory-lock.js';
import type { NotificationHandler, QueryOptions, SqlClient, SqlExecutor, SqlResult } from './sql-client.js';

interface PgliteResults {
  rows: unknown[];
  rowCount?: number | undefined;
  affectedRows?: number | undefined;
}

function toResult<Row>(result: PgliteResults): SqlResult<Row> {
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
}

/**
 * The directory on disk behind a PGlite `dataDir`, as PGlite reads it: a plain path or a
 * `file://` one; undefined for `memory://`, `idb://` and any other `scheme://` store.
 */
export function pgliteDirectory(dataDir: string): string | undefined {
  if (dataDir.startsWith('file://')) return dataDir.slice('file://'.length) || undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dataDir)) return undefined;
  return dataDir;
}

/**
 * `SqlClient` over an embedded PGlite instance (Postgres compiled to WASM). PGlite runs one
 * backend: statements and transactions are serialized, so row locks never wait and
 * `SKIP LOCKED` never skips, and the same SQL gives the same results as on a server.
 * Notifications stay within the process.
 */
export class PgliteSqlClient implements SqlClient {
  readonly kind = 'pglite' as const;
  readonly db: PGliteInterface;
  private readonly ownsDb: boolean;
  private lock: DirectoryLock | undefined;

  /** Wraps an instance the caller opened (and closes). */
  constructor(db: PGliteInterface, options: { owned?: boolean } = {}) {
    this.db = db;
    this.ownsDb = options.owned ?? false;
  }

  /**
   * Opens PGlite on `dataDir`: a directory (created with its parents when absent; the database
   * survives the process) or `memory://` (gone on close). The client closes the instance on
   * `close()`. A directory is held exclusively until then, through a lock file in it: an open of
   * a directory that another process, or another client of this one, holds fails with
   * `EmbeddedDirectoryLockedError` naming the holder's pid, and opens nothing.
   */
  static async open(options: { dataDir: string }): Promise<PgliteSqlClient> {
    if (typeof options?.dataDir !== 'string' || options.dataDir.length === 0) {
      throw new InvalidArgumentError('dataDir', "must be a directory path or 'memory://'");
    }
    const directory = pgliteDirectory(options.dataDir);
    let lock: DirectoryLock | undefined;
    if (directory !== undefined) {
      await mkdir(directory, { recursive: true });
      lock = await DirectoryLock.acquire(directory);
    }
    try {
      const db = await PGlite.create(options.dataDir);
      const client = new PgliteSqlClient(db, { owned: true });
      client.lock = lock;
      return client;
    } catch (error) {
      await lock?.release();
      throw error;
    }
  }

  async query<Row = Record<string, unknown>>(text: string, params: readonly unknown[] = [], _options?: QueryOptions): Promise<SqlResult<Row>> {
    return toResult<Row>(await this.db.query(text, params as unknown[]));
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) =>
      fn({ query: async <Row>(text: string, params: readonly unknown[] = []) => toResult<Row>(await tx.query(text, params as unknown[])) }),
    );
  }

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    const unlisten = await this.db.listen(channel, (payload) => {
      try {
        handler(payload);
      } catch {
        // A handler's failure is its own.
      }
    });
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      if (!this.db.closed) await unlisten();
    };
  }

  /** Closes an instance this client opened, then gives its directory up. */
  async close(): Promise<void> {
    try {
      if (this.ownsDb && !this.db.closed) await this.db.close();
    } finally {
      await this.lock?.release();
    }
  }
}
