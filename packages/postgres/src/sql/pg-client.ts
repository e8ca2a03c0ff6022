import { createHash } from 'node:crypto';
import pg from 'pg';
import { InvalidArgumentError } from '@baton/llm-client';
import { isConnectionError, mapDriverError, sqlState } from './driver-errors.js';
import { PgNotificationListener } from '../notifications/pg-notification-listener.js';
import type { ListenOptions, NotificationHandler, QueryOptions, SqlClient, SqlExecutor, SqlResult, WarmOptions } from './sql-client.js';

/** Connections of a pool the client opens when `poolConfig.max` is not given. */
export const DEFAULT_POOL_MAX = 10;

export interface PgSqlClientOptions {
  /** A `postgres://` URL; the client opens (and on `close()` ends) its own pool. */
  connectionString?: string | undefined;
  /** An existing pool; the client never ends it. */
  pool?: pg.Pool | undefined;
  /** Extra settings for a pool the client opens (ignored with `pool`). Default `max` 10. */
  poolConfig?: Omit<pg.PoolConfig, 'connectionString'> | undefined;
  /**
   * Prepare the per-step statements once per connection (default true). Turn it off behind a
   * pooler that does not keep prepared statements across transactions (PgBouncer in transaction
   * mode before 1.21).
   */
  preparedStatements?: boolean | undefined;
}

/**
 * `SqlClient` over a `pg.Pool`. Statements run on any pooled connection; a transaction holds one
 * connection from BEGIN to COMMIT. When every open connection is busy and the pool may grow, a
 * statement opens a new one but takes whichever is ready first, that one or a busy one given
 * back. A statement the server refuses keeps its connection; a connection that breaks is dropped
 * from the pool (the next statement gets a fresh one) and the failure surfaces as
 * `StoreUnavailableError`. Notifications use one dedicated connection that reconnects and
 * listens again when it is lost.
 */
export class PgSqlClient implements SqlClient {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private listener: PgNotificationListener | undefined;
  private readonly statementNames = new Map<string, string>();
  private readonly prepare: boolean;
  /** Callers racing a new connection against one given back (see `acquire`), first come first served. */
  private readonly waiting: Array<() => void> = [];
  private closed = false;

  constructor(options: PgSqlClientOptions) {
    this.prepare = options.preparedStatements ?? true;
    if (options.pool !== undefined) {
      if (options.connectionString !== undefined) throw new InvalidArgumentError('pool', 'give either pool or connectionString, not both');
      this.pool = options.pool;
      this.ownsPool = false;
    } else {
      if (typeof options.connectionString !== 'string' || options.connectionString.length === 0) {
        throw new InvalidArgumentError('connectionString', 'a postgres:// URL (or a pool) is required');
      }
      this.pool = new pg.Pool({ max: DEFAULT_POOL_MAX, ...options.poolConfig, connectionString: options.connectionString });
      // An idle connection that the server drops emits 'error' on the pool; the pool discards it
      // and the next statement connects again. Without a listener the process would crash.
      this.pool.on('error', () => {});
      this.ownsPool = true;
    }
    this.pool.on('release', this.onRelease);
    // A new connection is handed out a moment before its taker listens for its errors: a server
    // that drops it then (its FATAL read with the message saying it is ready) would raise an
    // 'error' with no listener, which crashes the process. The failure still reaches the
    // statement that uses the connection ('not queryable'), which destroys it.
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  async query<Row = Record<string, unknown>>(text: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<SqlResult<Row>> {
    const client = await this.acquire();
    let broken: unknown;
    const onError = (error: unknown): void => {
      broken ??= error;
    };
    client.on('error', onError);
    try {
      const result = await client.query(this.config(text, params, options));
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
    } catch (error) {
      // A statement the server refused leaves its connection fine, prepared statements and all
      // (pg's own pool.query would close it); anything else may have left it unusable.
      if (sqlState(error) === undefined || isConnectionError(error)) broken ??= error;
      throw mapDriverError(error);
    } finally {
      client.off('error', onError);
      client.release(broken === undefined ? undefined : broken instanceof Error ? broken : true);
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.acquire();
    const tx: SqlExecutor = {
      query: async <Row>(text: string, params: readonly unknown[] = [], options?: QueryOptions) => {
        const result = await client.query(this.config(text, params, options));
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
      },
    };
    let broken: unknown;
    // A checked-out connection that the server drops between two statements emits 'error' on
    // the client (not the pool): note it, so that the connection is destroyed on release.
    const onError = (error: unknown): void => {
      broken ??= error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const value = await fn(tx);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      if (isConnectionError(error)) broken = error;
      else await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError));
      throw mapDriverError(error);
    } finally {
      client.off('error', onError);
      // A connection that failed is destroyed rather than returned to the pool.
      client.release(broken === undefined ? undefined : broken instanceof Error ? broken : true);
    }
  }

  /**
   * A pooled connection for a statement or a transaction. When every open connection is in use
   * and the pool may grow, a new one is opened, but the caller takes whichever is ready first:
   * the new one, or one given back meanwhile (a statement lasts about a millisecond; opening a
   * connection takes several, and the first statements on it are slower while the server loads
   * the tables' metadata). A new connection that lost the race joins the pool's idle ones.
   */
  private acquire(): Promise<pg.PoolClient> {
    const pool = this.pool;
    // The pool hands idle connections to its waiters on the next tick: those already promised are not free.
    if (pool.idleCount > pool.waitingCount || pool.totalCount === 0 || pool.totalCount >= pool.options.max) {
      return pool.connect().catch((error: unknown) => Promise.reject(mapDriverError(error)));
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const given = (): void => {
        settled = true;
        pool.connect().then(resolve, (error: unknown) => reject(mapDriverError(error)));
      };
      this.waiting.push(given);
      pool.connect().then(
        (client) => {
          if (settled) return client.release();
          settled = true;
          this.stopWaiting(given);
          resolve(client);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          this.stopWaiting(given);
          reject(mapDriverError(error));
        },
      );
    });
  }

  /** A connection went back to the pool: the first caller racing a new connection takes it. */
  private readonly onRelease = (): void => {
    if (this.waiting.length === 0) return;
    // 'release' is emitted before the connection is among the idle ones (or is destroyed).
    queueMicrotask(() => {
      if (this.pool.idleCount > this.pool.waitingCount) this.waiting.shift()?.();
    });
  };

  private stopWaiting(given: () => void): void {
    const i = this.waiting.indexOf(given);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  /** A prepared statement is named by its text's hash: the same text (schema included) shares one name. */
  private config(text: string, params: readonly unknown[], options: QueryOptions | undefined): pg.QueryConfig {
    if (!options?.prepare || !this.prepare) return { text, values: params as unknown[] };
    let name = this.statementNames.get(text);
    if (name === undefined) {
      name = `baton_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
      this.statementNames.set(text, name);
    }
    return { name, text, values: params as unknown[] };
  }

  /**
   * Checks out `connections` pooled connections at once (the pool opens those it does not hold
   * idle), runs `statement` on each, and gives them back. How long they then stay open is the
   * pool's setting: an idle connection past the pool's `min` is closed after `idleTimeoutMillis`
   * (10 s by default in pg). `InvalidArgumentError` when `connections` is not a whole number from
   * 0 to the pool's `max`; `StoreUnavailableError` when a connection cannot be opened (the others
   * are given back).
   */
  async warm(options: WarmOptions): Promise<void> {
    const connections = options?.connections;
    if (typeof connections !== 'number' || !Number.isInteger(connections) || connections < 0) {
      throw new InvalidArgumentError('connections', `must be a whole number ≥ 0 (got ${String(connections)})`);
    }
    if (connections > this.pool.options.max) throw new InvalidArgumentError('connections', `at most the pool's max (${this.pool.options.max}), got ${connections}`);
    if (this.closed) throw new InvalidArgumentError('client', 'closed');
    const statement = options.statement;
    const checkouts = await Promise.allSettled(Array.from({ length: connections }, () => this.pool.connect()));
    const clients = checkouts.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
    const broken = new Map<pg.PoolClient, unknown>();
    // As in a transaction: a checked-out connection the server drops reports it on the client.
    const listeners = clients.map((client) => {
      const onError = (error: unknown): void => {
        if (!broken.has(client)) broken.set(client, error);
      };
      client.on('error', onError);
      return onError;
    });
    try {
      const failed = checkouts.find((c) => c.status === 'rejected');
      if (failed) throw failed.reason;
      // Every statement settles before any connection goes back to the pool.
      const runs = statement === undefined ? [] : await Promise.allSettled(clients.map((client) => client.query(statement)));
      runs.forEach((run, i) => {
        if (run.status === 'rejected' && isConnectionError(run.reason) && !broken.has(clients[i]!)) broken.set(clients[i]!, run.reason);
      });
      const refused = runs.find((run) => run.status === 'rejected');
      if (refused) throw refused.reason;
      if (options.rehearse) await Promise.all(clients.map((client) => this.rehearseOn(client, options.rehearse!, broken)));
      if (options.commit) await Promise.all(clients.map((client) => this.commitOn(client, options.commit!, broken)));
      if (options.listening !== false) {
        this.listener ??= new PgNotificationListener(() => new pg.Client(this.pool.options));
        await this.listener.warm();
      }
    } catch (error) {
      throw mapDriverError(error);
    } finally {
      clients.forEach((client, i) => {
        client.off('error', listeners[i]!);
        const error = broken.get(client);
        client.release(broken.has(client) ? (error instanceof Error ? error : true) : undefined);
      });
    }
  }

  /** Commits `statement` twice on `client` (see `WarmOptions.commit`); a failure is ignored (a broken connection is noted in `broken`). */
  private async commitOn(client: pg.PoolClient, statement: string, broken: Map<pg.PoolClient, unknown>): Promise<void> {
    if (broken.has(client)) return;
    try {
      for (let i = 0; i < 2; i++) await client.query(statement);
    } catch (error) {
      if (isConnectionError(error) && !broken.has(client)) broken.set(client, error);
    }
  }

  /** Runs `rehearse` on `client` inside a transaction rolled back afterwards; its failure is ignored (a broken connection is noted in `broken`). */
  private async rehearseOn(client: pg.PoolClient, rehearse: (connection: SqlClient) => Promise<void>, broken: Map<pg.PoolClient, unknown>): Promise<void> {
    // One connection runs one statement at a time: concurrent ones wait their turn.
    let turn: Promise<unknown> = Promise.resolve();
    const run = <Row>(text: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<SqlResult<Row>> => {
      const next = turn.then(async () => {
        const result = await client.query(this.config(text, params, options));
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
      });
      turn = next.catch(() => undefined);
      return next;
    };
    // Inside a transaction rolled back, nothing is notified: listening is a no-op.
    const bound: SqlClient = { kind: 'postgres', query: run, transaction: (fn) => fn({ query: run }), listen: async () => async () => {}, close: async () => {} };
    try {
      await client.query('BEGIN');
      await rehearse(bound).catch(() => undefined);
      await client.query('ROLLBACK');
    } catch (error) {
      if (!broken.has(client)) broken.set(client, error);
    }
  }

  async listen(channel: string, handler: NotificationHandler, options?: ListenOptions): Promise<() => Promise<void>> {
    if (this.closed) throw new InvalidArgumentError('client', 'closed');
    this.listener ??= new PgNotificationListener(() => new pg.Client(this.pool.options));
    return this.listener.listen(channel, handler, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listener?.close();
    this.pool.off('release', this.onRelease);
    if (this.ownsPool) await this.pool.end();
  }
}
