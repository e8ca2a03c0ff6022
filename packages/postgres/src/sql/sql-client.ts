/** The rows a statement returned and how many rows it changed (or returned, for a SELECT). */
export interface SqlResult<Row = Record<string, unknown>> {
  readonly rows: Row[];
  readonly rowCount: number;
}

export interface QueryOptions {
  /**
   * A statement run on every step (an append, a job update): a server client prepares it once per
   * connection and then only binds parameters. Ignored where preparing brings nothing (PGlite).
   */
  readonly prepare?: boolean | undefined;
}

/** Runs one parameterized statement (`$1`, `$2`, …). Values are never spliced into the text. */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlResult<Row>>;
}

/** What `SqlClient.warm` opens and runs. */
export interface WarmOptions {
  /** How many connections should be open when it returns (a whole number, at most the pool's size). */
  readonly connections: number;
  /** A statement run once on each of them, to fill the server's per-connection caches. */
  readonly statement?: string | undefined;
  /**
   * Work run on each of them inside a transaction that is then rolled back (best effort: a
   * failure is ignored), through a client bound to that connection: the statements it runs are
   * prepared there under the names the client gives them, so a request's first statements on
   * the connection are neither parsed nor planned cold.
   */
  readonly rehearse?: ((connection: SqlClient) => Promise<void>) | undefined;
  /**
   * A write that changes nothing, committed twice on each of them last (best effort): a new
   * server process's first commits take longer than its later ones, and a rehearsal rolled back
   * commits nothing, so without it a request's first write would pay for that.
   */
  readonly commit?: string | undefined;
  /**
   * Also opens the connection that LISTENs for notifications (default true), so that a
   * process's first subscription (a worker's wake-ups, a bus following other processes, a
   * kernel hearing cancels from other hosts) does not open it while a request runs.
   */
  readonly listening?: boolean | undefined;
}

/** Called with the payload of each notification on a channel. */
export type NotificationHandler = (payload: string) => void;

export interface ListenOptions {
  /**
   * Called when the channel is listened to again on a new connection, after the one that
   * listened was lost: notifications sent in between were lost, and a listener that must not
   * miss any reads what it missed from the tables.
   */
  readonly onRelisten?: (() => void) | undefined;
}

/**
 * The small SQL surface the stores need, so that the same SQL text runs on a Postgres server
 * (`pg.Pool`) and on embedded PGlite. `transaction` runs `fn` on one connection between BEGIN and
 * COMMIT (ROLLBACK when it throws). `listen` subscribes to a Postgres notification channel and
 * resolves once the subscription is in place; notifications are sent with `pg_notify` in SQL.
 */
export interface SqlClient extends SqlExecutor {
  /** `postgres` for a server, `pglite` for the embedded engine. */
  readonly kind: 'postgres' | 'pglite';
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  listen?(channel: string, handler: NotificationHandler, options?: ListenOptions): Promise<() => Promise<void>>;
  /**
   * Opens connections ahead of the first request, so that its statements neither wait for a
   * connection nor for the server to load the tables' metadata on a new one. Absent on a client
   * with a single connection (PGlite), which has nothing to open.
   */
  warm?(options: WarmOptions): Promise<void>;
  /** Releases what the client opened (a pool it created, a PGlite instance it started). */
  close(): Promise<void>;
}
