import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '@baton/llm-client';
import {
  CorruptRecordError,
  EventBus,
  parseRuntimeEvent,
  RUNTIME_EVENT_TYPES,
  type EventHandler,
  type EventUnsubscribe,
  type ReplayOptions,
  type RuntimeEvent,
  type RuntimeEventInput,
  type RuntimeEventType,
  type SubscribeOptions,
  type SubscriberOverflowPolicy,
} from '@baton/agent-runtime';
import type { PostgresConnectionOptions } from '../database.js';
import type { MigrationResult } from '../migrations/migrate.js';
import { MAX_NOTIFY_PAYLOAD_BYTES, physicalChannel } from '../notifications/channel-names.js';
import { checkJsonObject } from '../sql/json-check.js';
import { msToTs } from '../sql/tables.js';
import { jsonParam, mapValueError, num, parseJsonText } from '../sql/values.js';
import { StoreContext } from '../store-context.js';
import { EVENT_BATCH_PARAMS, eventBatchSql, listenedOn } from './event-batch-sql.js';
import { registerOutboxWriter, writesEventsOn, type PreparedEvents } from './event-outbox.js';
import { LocalSubscribers } from './local-subscribers.js';

export interface PostgresEventBusOptions extends PostgresConnectionOptions {
  /**
   * Also deliver events published by other processes (and other buses on the same database):
   * each publish sends a notification, and a bus with subscribers listens. Default true on a
   * Postgres server, false on PGlite (one process).
   */
  crossProcess?: boolean | undefined;
  /** Default queue bound of each subscriber. Default 1,000. */
  maxQueue?: number | undefined;
  /** Default overflow policy of each subscriber. Default `drop-oldest`. */
  overflow?: SubscriberOverflowPolicy | undefined;
  /** Called when a handler throws or rejects and its subscription has no `onError`. */
  onHandlerError?: ((error: unknown, event: RuntimeEvent) => void) | undefined;
  now?: (() => number) | undefined;
  generateId?: (() => string) | undefined;
}

const TYPES: ReadonlySet<string> = new Set(RUNTIME_EVENT_TYPES);
const BUS_CHANNEL = 'baton:events';
/** How long a listening bus's registration lasts unless renewed (every third of it). */
const LISTENER_TTL_MS = 60_000;

/**
 * A notification of stored events: origin bus, scope, job, the first seq `q` and how many `n`
 * (consecutive), with the records `r` when they fit in a payload (else they are read back).
 * A notice without `n` (a bus of an earlier version) names one event, `r` being its record.
 */
interface Notice {
  o: string;
  s: string;
  j: string;
  q: number | string;
  n?: number | string;
  r?: unknown;
}

/**
 * `EventBus` on Postgres or PGlite. The job's next seq comes from its row in `event_seqs`
 * (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), so concurrent publishers, in this process or
 * others, get distinct gapless seqs; the event row and, on a server, a notification are written
 * by the same statement. Subscribers in this process get an event as soon as its publish
 * returns, in seq order per job; with `crossProcess`, subscribers of other processes get it
 * through LISTEN/NOTIFY (best effort: `replay`/`stream({ fromSeq })` fill any hole). History is
 * kept until `pruneFinished` removes it.
 *
 * A batch of one job's events (`publishMany`) is one statement too: it reserves the n seqs at
 * once and inserts every row from a JSON array. The `PostgresJournalStore` and
 * `PostgresJobStore` on the same database (`sharesTransactionsWith`) store a write's events in
 * the write's own statement (`appendWithEvents`, `createWithEvents`, `updateWithEvents`): one
 * round trip and one commit for a step.
 */
export class PostgresEventBus extends EventBus {
  private readonly ctx: StoreContext;
  private readonly local: LocalSubscribers;
  private readonly crossProcess: boolean;
  private readonly now: () => number;
  private readonly generateId: () => string;
  private readonly origin = randomBytes(8).toString('hex');
  private readonly channel: string;
  /** Per job, the last publish of this process: publishes of a job complete in seq order. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private remoteChain: Promise<void> = Promise.resolve();
  private listening: Promise<(() => Promise<void>) | undefined> | undefined;
  private readonly insertSql: string;
  private readonly insertManySql: string;
  private readonly replaySql: string;
  /** Registers (or renews) this bus as listening, for `LISTENER_TTL_MS`; and unregisters it. */
  private readonly registerSql: string;
  private readonly unregisterSql: string;

  constructor(options: PostgresEventBusOptions) {
    super();
    this.ctx = new StoreContext(options);
    const client = this.ctx.database.client;
    this.crossProcess = options.crossProcess ?? (client.kind === 'postgres' && client.listen !== undefined);
    if (this.crossProcess && !client.listen) throw new InvalidArgumentError('crossProcess', 'the SQL client does not support LISTEN');
    this.local = new LocalSubscribers({ maxQueue: options.maxQueue ?? 1000, overflow: options.overflow ?? 'drop-oldest', onHandlerError: options.onHandlerError });
    this.now = options.now ?? Date.now;
    const prefix = `evt_${randomBytes(10).toString('hex')}_`;
    let n = 0;
    this.generateId = options.generateId ?? (() => prefix + (++n).toString(36));
    this.channel = physicalChannel(this.ctx.database.schema, BUS_CHANNEL);
    const t = this.ctx.tables;
    const head = `'o', $9::text, 's', $1::text, 'j', $2::text, 'q', e.seq, 'n', 1`;
    const notify = this.crossProcess
      ? `, CASE WHEN ${listenedOn(t, '$8::text')} THEN pg_notify($8, (SELECT CASE WHEN octet_length(b.full) <= ${MAX_NOTIFY_PAYLOAD_BYTES} THEN b.full ELSE json_build_object(${head})::text END
          FROM (SELECT json_build_object(${head}, 'r', json_build_array(e.record))::text AS full) AS b)) END AS notified`
      : '';
    this.registerSql = `WITH gone AS (DELETE FROM ${t.busListeners} WHERE channel = $1 AND expires_at < now())
      INSERT INTO ${t.busListeners} (channel, listener_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3::int8 / 1000.0))
      ON CONFLICT (channel, listener_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`;
    this.unregisterSql = `DELETE FROM ${t.busListeners} WHERE channel = $1 AND listener_id = $2`;
    this.insertSql = `WITH s AS (
        INSERT INTO ${t.eventSeqs} AS q (scope_id, job_id, last_seq) VALUES ($1, $2, 1)
        ON CONFLICT (scope_id, job_id) DO UPDATE SET last_seq = q.last_seq + 1
        RETURNING last_seq
      ), e AS (
        INSERT INTO ${t.events} (scope_id, job_id, seq, id, type, session_id, at, record)
        SELECT $1, $2, s.last_seq, $3, $4, $5, ${msToTs('$6')}, jsonb_set($7::jsonb, '{seq}', to_jsonb(s.last_seq)) FROM s
        RETURNING seq, record
      ) SELECT e.seq::text AS seq${notify} FROM e`;
    const batch = eventBatchSql(t, 1);
    this.insertManySql = `WITH ${batch.ctes} ${batch.select}`;
    this.replaySql = `SELECT ev.seq::text AS seq, ev.record::text AS record FROM ${t.events} AS ev
      WHERE scope_id = $1 AND job_id = $2 AND ev.seq >= $3::int8 ORDER BY ev.seq LIMIT $4::int8`;
    registerOutboxWriter(this, { prepare: (inputs) => this.prepare(inputs), write: (prepared, write) => this.writeInOrder(prepared, write) });
  }

  setup(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  migrate(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  /** Stops delivering, stops listening, and closes the database if this bus opened it. */
  async close(): Promise<void> {
    this.local.closeAll();
    const unlisten = await this.listening?.catch(() => undefined);
    this.listening = undefined;
    await unlisten?.();
    await this.ctx.close();
  }

  override async publish<K extends RuntimeEventType>(input: RuntimeEventInput<K>): Promise<RuntimeEvent<K>> {
    const event = this.build(input);
    const stored = await this.inOrder(event, async () => {
      const done = await this.insert(event);
      this.local.offer(done);
      return done;
    });
    return stored as RuntimeEvent<K>;
  }

  /**
   * A batch of one job's events in one statement (one round trip and one commit instead of one
   * per event), in order after that job's earlier publishes; events of several jobs are
   * published one by one.
   */
  override async publishMany(inputs: readonly RuntimeEventInput[]): Promise<RuntimeEvent[]> {
    if (inputs.length === 0) return [];
    const prepared = this.prepare(inputs);
    if (prepared === undefined) return super.publishMany(inputs);
    const stored = await this.writeInOrder(prepared, async () => {
      const sql = await this.ctx.sql();
      try {
        const { rows } = await sql.query<{ seq: string }>(this.insertManySql, [...prepared.params], { prepare: true });
        return rows.map((row) => num(row.seq));
      } catch (error) {
        throw mapValueError(error, 'event');
      }
    });
    return stored ?? [];
  }

  /**
   * True for a `PostgresJournalStore` or `PostgresJobStore` on this bus's database (the same SQL
   * client and schema): they store this bus's events in the statement of their own write.
   */
  override sharesTransactionsWith(store: object): boolean {
    return writesEventsOn(store, this.ctx.database);
  }

  override subscribe(handler: EventHandler, options: SubscribeOptions = {}): EventUnsubscribe {
    const unsubscribe = this.local.add(handler, options);
    // Listening starts in the background; if it fails (server down), the next subscribe tries again.
    if (this.crossProcess) {
      this.listening ??= this.listen().catch(() => {
        this.listening = undefined;
        return undefined;
      });
    }
    return unsubscribe;
  }

  /** Resolves once this bus listens for other processes' events (after its first `subscribe`), or could not. */
  override async ready(): Promise<void> {
    await this.listening;
  }

  override async replay(options: ReplayOptions): Promise<readonly RuntimeEvent[]> {
    const fromSeq = options.fromSeq ?? 1;
    if (!Number.isInteger(fromSeq) || fromSeq < 1) throw new InvalidArgumentError('fromSeq', 'must be an integer ≥ 1');
    const limit = options.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new InvalidArgumentError('limit', 'must be a positive integer');
    const sql = await this.ctx.sql();
    const { rows } = await sql.query<{ seq: string; record: string }>(this.replaySql, [options.scopeId, options.jobId, fromSeq, limit ?? null]);
    return rows.map((row) => loadEvent(parseJsonText(row.record), options, num(row.seq)));
  }

  /** Validates the input and builds the record (seq filled in by the database). */
  private build(input: RuntimeEventInput): RuntimeEvent {
    if (typeof input !== 'object' || input === null || !TYPES.has(input.type)) throw new InvalidArgumentError('event.type', 'not a runtime event type');
    const { jobId, scopeId } = input;
    if (typeof jobId !== 'string' || jobId === '') throw new InvalidArgumentError('event.jobId', 'required');
    if (typeof scopeId !== 'string' || scopeId === '') throw new InvalidArgumentError('event.scopeId', 'required');
    checkJsonObject(input.data, 'event.data');
    const raw: Record<string, unknown> = { schemaVersion: 1, id: input.id ?? this.generateId(), type: input.type, jobId, scopeId, seq: 1, at: input.at ?? this.now(), data: input.data };
    if (input.sessionId !== undefined) raw.sessionId = input.sessionId;
    if (input.traceId !== undefined) raw.traceId = input.traceId;
    let json: unknown;
    try {
      json = JSON.parse(JSON.stringify(raw));
    } catch (error) {
      // A BigInt or a cycle in the envelope (`id`, `at`, `sessionId`, `traceId`): not storable.
      throw new InvalidArgumentError('event', `not JSON: ${error instanceof Error ? error.message : String(error)}`, error);
    }
    try {
      // The same parser that reads it back: an event that would not load is refused now.
      return parseRuntimeEvent(json, { jobId, scopeId, seq: 1 });
    } catch (error) {
      if (error instanceof CorruptRecordError) throw new InvalidArgumentError('event', error.issue, error);
      throw error;
    }
  }

  /** Builds one job's batch and its `eventBatchSql` parameters; `undefined` when it spans several jobs. */
  private prepare(inputs: readonly RuntimeEventInput[]): PreparedEvents | undefined {
    const events = inputs.map((input) => this.build(input));
    const first = events[0];
    if (first === undefined || events.some((e) => e.scopeId !== first.scopeId || e.jobId !== first.jobId)) return undefined;
    const json = events.map((event) => jsonParam(event));
    const params = [first.scopeId, first.jobId, events.length, `[${json.join(',')}]`, this.crossProcess ? this.channel : null, this.origin];
    if (params.length !== EVENT_BATCH_PARAMS) throw new Error('event batch parameters out of step with eventBatchSql');
    return { scopeId: first.scopeId, jobId: first.jobId, events, params };
  }

  /**
   * Runs a statement storing `prepared` in the job's order, then hands the stored events to this
   * process's subscribers (still in order: the job's next write waits for it).
   */
  private async writeInOrder(prepared: PreparedEvents, write: () => Promise<readonly number[] | undefined>): Promise<RuntimeEvent[] | undefined> {
    return this.inOrder(prepared, async () => {
      const seqs = await write();
      if (seqs === undefined) return undefined;
      if (seqs.length !== prepared.events.length) throw new Error(`stored ${seqs.length} of a batch of ${prepared.events.length} events`);
      const stored = prepared.events.map((event, i) => ({ ...event, seq: seqs[i]! }));
      for (const event of stored) this.local.offer(event);
      return stored;
    });
  }

  /** Runs `fn` after this process's earlier writes of the job's events, and before its later ones. */
  private inOrder<T>(ref: { scopeId: string; jobId: string }, fn: () => Promise<T>): Promise<T> {
    const key = `${ref.scopeId}\u0000${ref.jobId}`;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    this.chains.set(key, run);
    const forget = (): void => {
      if (this.chains.get(key) === run) this.chains.delete(key);
    };
    run.then(forget, forget);
    return run;
  }

  private async insert(event: RuntimeEvent): Promise<RuntimeEvent> {
    const sql = await this.ctx.sql();
    let seq: number;
    try {
      const { rows } = await sql.query<{ seq: string }>(this.insertSql, this.insertParams(event), { prepare: true });
      seq = num(rows[0]?.seq);
    } catch (error) {
      throw mapValueError(error, 'event');
    }
    return { ...event, seq };
  }

  private insertParams(event: RuntimeEvent): unknown[] {
    const params: unknown[] = [event.scopeId, event.jobId, event.id, event.type, event.sessionId ?? null, Math.floor(event.at), jsonParam(event)];
    if (this.crossProcess) params.push(this.channel, this.origin);
    return params;
  }

  /**
   * Listens on the bus channel, then registers this bus as listening (renewed every third of
   * `LISTENER_TTL_MS` while it listens): publishers send notifications only while a bus is
   * registered. Registered after the LISTEN holds, so a publisher that sees the registration
   * notifies a listener already listening; what was published before is read by `replay`, as
   * for any subscriber that comes late. The returned function stops both.
   */
  private async listen(): Promise<(() => Promise<void>) | undefined> {
    const unlisten = await this.listenOnChannel();
    if (unlisten === undefined) return undefined;
    const register = async () => {
      const sql = await this.ctx.sql();
      await sql.query(this.registerSql, [this.channel, this.origin, LISTENER_TTL_MS], { prepare: true });
    };
    try {
      await register();
    } catch (error) {
      await unlisten().catch(() => {});
      throw error;
    }
    // A renewal that fails (the database away for a moment) is tried again at the next one, before the registration lapses.
    const timer = setInterval(() => void register().catch(() => {}), Math.floor(LISTENER_TTL_MS / 3));
    timer.unref?.();
    return async () => {
      clearInterval(timer);
      try {
        const sql = await this.ctx.sql();
        await sql.query(this.unregisterSql, [this.channel, this.origin]);
      } catch {
        // It lapses by itself.
      }
      await unlisten();
    };
  }

  private async listenOnChannel(): Promise<(() => Promise<void>) | undefined> {
    const client = this.ctx.database.client;
    if (!client.listen) return undefined;
    return client.listen(
      this.channel,
      (payload) => {
        let notice: Notice;
        try {
          notice = JSON.parse(payload) as Notice;
        } catch {
          return;
        }
        // Ours, or of a job no subscriber here follows: not parsed, nor read back when too large to ride along.
        if (notice.o === this.origin || typeof notice.s !== 'string' || typeof notice.j !== 'string' || !this.local.wants(notice.s, notice.j)) return;
        // Events of other processes are handed over in the order their notifications arrive.
        this.remoteChain = this.remoteChain.then(() => this.deliverRemote(notice)).catch(() => undefined);
      },
      // Listening again after a lost connection: what other processes published meanwhile was
      // not notified here; subscribers read it back (streams do by themselves).
      { onRelisten: () => this.local.resync() },
    );
  }

  private async deliverRemote(notice: Notice): Promise<void> {
    const seq = num(notice.q);
    const ref = { jobId: notice.j, scopeId: notice.s };
    const batch = notice.n !== undefined;
    const count = batch ? num(notice.n) : 1;
    if (!Number.isInteger(seq) || seq < 1 || !Number.isInteger(count) || count < 1) return;
    const inline = batch ? (Array.isArray(notice.r) && notice.r.length === count ? notice.r : undefined) : notice.r != null ? [notice.r] : undefined;
    const events = inline !== undefined ? inline.map((raw, i) => loadEvent(raw, ref, seq + i)) : await this.replay({ ...ref, fromSeq: seq, limit: count });
    events.forEach((event, i) => {
      if (event.seq === seq + i) this.local.offer(event);
    });
  }
}

function loadEvent(raw: unknown, ref: { jobId: string; scopeId: string }, seq: number): RuntimeEvent {
  const event = parseRuntimeEvent(raw, { jobId: ref.jobId, scopeId: ref.scopeId, seq });
  if (event.seq !== seq || event.jobId !== ref.jobId || event.scopeId !== ref.scopeId) {
    throw new CorruptRecordError({ recordType: 'event', recordId: `${ref.jobId}#${seq}`, jobId: ref.jobId, scopeId: ref.scopeId, issue: `stored as seq ${seq} but names ${event.jobId}#${event.seq}` });
  }
  return event;
}
