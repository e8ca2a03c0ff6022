/**
 * Internal to this package (not exported from its index): how a `PostgresEventBus` lets the
 * journal and job stores on its database store its events in their own statements. The bus
 * registers a writer for itself, the stores register their database; neither module imports the
 * other.
 */
import type { EventBus, EventOutbox, RuntimeEvent, RuntimeEventInput } from '@baton/agent-runtime';
import type { BatonDatabase } from '../database.js';
import type { SqlExecutor } from '../sql/sql-client.js';
import { num } from '../sql/values.js';

/** One job's events, validated and built as `publish` builds them, with their `eventBatchSql` parameters. */
export interface PreparedEvents {
  readonly scopeId: string;
  readonly jobId: string;
  /** The events as stored but for their seqs. */
  readonly events: readonly RuntimeEvent[];
  /** The `EVENT_BATCH_PARAMS` parameters of `eventBatchSql`, in order. */
  readonly params: readonly unknown[];
}

export interface EventOutboxWriter {
  /**
   * Validates and builds the events as `publish` would (an invalid one → `InvalidArgumentError`,
   * nothing written). `undefined` when they belong to several jobs: such a batch is published
   * the ordinary way.
   */
  prepare(inputs: readonly RuntimeEventInput[]): PreparedEvents | undefined;
  /**
   * Runs `write` in the job's order (after this process's earlier publishes of the job, before
   * its later ones). `write` runs the statement and returns the seqs the events got, in order, or
   * `undefined` when the statement refused the write (and stored none). The stored events are
   * then handed to this process's subscribers and returned.
   */
  write(prepared: PreparedEvents, write: () => Promise<readonly number[] | undefined>): Promise<RuntimeEvent[] | undefined>;
}

const writers = new WeakMap<EventBus, EventOutboxWriter>();
const storeDatabases = new WeakMap<object, BatonDatabase>();
const eventWriting = new WeakSet<object>();

export function registerOutboxWriter(bus: EventBus, writer: EventOutboxWriter): void {
  writers.set(bus, writer);
}

/** Marks `store` as a store on `database`: other stores there may read its rows in their own statements. */
export function registerStore(store: object, database: BatonDatabase): void {
  storeDatabases.set(store, database);
}

/** Marks `store` as a store on `database` that writes events in its statements (the bus there shares transactions with it). */
export function registerOutboxStore(store: object, database: BatonDatabase): void {
  registerStore(store, database);
  eventWriting.add(store);
}

/** Whether `store` writes events in its statements on `database` (`registerOutboxStore`). */
export function writesEventsOn(store: unknown, database: BatonDatabase): boolean {
  return typeof store === 'object' && store !== null && eventWriting.has(store) && storeOnDatabase(store, database);
}

/** Whether `store` is a registered store on `database` (same client and schema): one statement can write to both. */
export function storeOnDatabase(store: unknown, database: BatonDatabase): boolean {
  const own = typeof store === 'object' && store !== null ? storeDatabases.get(store) : undefined;
  return own !== undefined && sameDatabase(own, database);
}

/**
 * The writer of the outbox's bus when there are events and the bus shares transactions with
 * `store`; `undefined` means: write, then publish (`publishOutbox`).
 */
export function outboxWriterFor(store: object, outbox: EventOutbox | undefined): EventOutboxWriter | undefined {
  if (outbox === undefined || outbox.events.length === 0 || !outbox.bus.sharesTransactionsWith(store)) return undefined;
  return writers.get(outbox.bus);
}

/** Same SQL client and schema: one statement can write to both. */
export function sameDatabase(a: BatonDatabase, b: BatonDatabase): boolean {
  return a === b || (a.client === b.client && a.schema === b.schema);
}

/**
 * Runs a store's statement that writes its record and the prepared events (parameters: `params`,
 * then the events'), in the events' job order. The stored events, or `undefined` when the
 * statement returned no row (the write was refused and stored no event). `mapError` names the
 * culprit of an error.
 */
export function runWithEvents(
  sql: () => Promise<SqlExecutor>,
  writer: EventOutboxWriter,
  prepared: PreparedEvents,
  text: string,
  params: readonly unknown[],
  mapError: (error: unknown) => unknown,
): Promise<RuntimeEvent[] | undefined> {
  return writer.write(prepared, async () => {
    const db = await sql();
    let rows: Array<{ seq: string }>;
    try {
      rows = (await db.query<{ seq: string }>(text, [...params, ...prepared.params], { prepare: true })).rows;
    } catch (error) {
      throw mapError(error);
    }
    return rows.length === 0 ? undefined : rows.map((row) => num(row.seq));
  });
}
