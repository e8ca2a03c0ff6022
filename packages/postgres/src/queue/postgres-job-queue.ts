import { InvalidArgumentError } from '@baton/llm-client';
import {
  CorruptRecordError,
  JOB_PRIORITIES,
  JobQueue,
  LeaseLostError,
  jobPriorityRank,
  parseJobRecord,
  type ClaimOptions,
  type ClaimResult,
  type ClaimedJob,
  type CreateJobResult,
  type DeadLetteredJob,
  type EnqueueOptions,
  type JobPriority,
  type JobRecord,
  type JobRef,
  type JobStore,
  type LeaseRef,
  type NackResult,
  type QueueEntry,
  type RuntimeEvent,
  type EventOutbox,
  type EnqueueWithWakeUp,
  publishOutbox,
} from '@baton/agent-runtime';
import type { PostgresConnectionOptions } from '../database.js';
import type { MigrationResult } from '../migrations/migrate.js';
import type { SqlClient, SqlExecutor } from '../sql/sql-client.js';
import { StatementTexts } from '../sql/statement-texts.js';
import { mapValueError, num, parseJsonText } from '../sql/values.js';
import { StoreContext } from '../store-context.js';
import { queueSql, type QueueSql } from './queue-sql.js';
import { eventBatchSql } from '../events/event-batch-sql.js';
import { outboxWriterFor, registerOutboxStore, runWithEvents, storeOnDatabase } from '../events/event-outbox.js';
import { notificationOn } from '../stores/postgres-signal-channel.js';
import { lockedJobSql, PostgresJobStore, type PriorWrite } from '../stores/postgres-job-store.js';
import { resumeReadsOf, type ResumeReadsRow } from '../stores/resume-reads.js';

export interface PostgresJobQueueOptions extends PostgresConnectionOptions {
  /** Claims after which an unacked job is dead-lettered instead of claimed again. Default 5. */
  maxClaims?: number | undefined;
  /** Epoch milliseconds; injectable for tests. Lease times come from this clock, so workers' clocks should agree. */
  now?: (() => number) | undefined;
}

/** Advisory lock class serializing claims that apply a per-scope limit (second key: the schema). */
const PER_SCOPE_CLAIM_LOCK_CLASS = 0x4241_0002;
const PRIORITIES: ReadonlySet<string> = new Set(JOB_PRIORITIES);

interface Candidate {
  scope_id: string;
  job_id: string;
  priority: JobPriority;
  claims: number;
  last_failure: string | null;
  priority_rank: number;
  enqueued_ms: string;
  ord_text: string;
}

/** The workers' wake-up that goes with an enqueue. */
type WakeUp = EnqueueWithWakeUp['wake'];

/** The enqueue's wake-up notification on channel `$7` with payload `$8`, none when `$7` is null. */
const NOTIFY_7_8 = 'CASE WHEN $7::text IS NOT NULL THEN pg_notify($7::text, $8::text) END';

/**
 * `JobQueue` on Postgres or PGlite. A claim runs in one transaction: leases that ran out become
 * ready again, ready jobs are read in priority-then-age order with `FOR UPDATE SKIP LOCKED` (so
 * concurrent claimers never get one job twice and never wait for each other), poison jobs are
 * dead-lettered, and the chosen rows get the lease and the next epoch. Claims with a
 * `perScopeLimit` also take a transaction-level advisory lock, so that two of them cannot both
 * see room for the same scope. Every lease operation is one UPDATE conditioned on the lease
 * (job, epoch, worker, unexpired); anything else → `LeaseLostError`.
 */
export class PostgresJobQueue extends JobQueue {
  private readonly ctx: StoreContext;
  private readonly sql: QueueSql;
  /** Statements written with another store's parts, built once per shape. */
  private readonly texts = new StatementTexts();
  private readonly maxClaims: number;
  /** `enqueueAndSignal`'s statements: the enqueue with its notification (`$7` channel, `$8` payload), and with the events too (from `$9`). */
  private readonly enqueueSignalSql: { plain: string; withEvents: string };
  private readonly now: () => number;

  constructor(options: PostgresJobQueueOptions) {
    super();
    this.ctx = new StoreContext(options);
    this.sql = queueSql(this.ctx.tables);
    this.maxClaims = options.maxClaims ?? 5;
    if (!Number.isInteger(this.maxClaims) || this.maxClaims < 1) throw new InvalidArgumentError('maxClaims', 'must be a positive integer');
    this.now = options.now ?? Date.now;
    registerOutboxStore(this, this.ctx.database);
    const plain = `${this.sql.enqueue} RETURNING ${NOTIFY_7_8} AS notified`;
    const events = eventBatchSql(this.ctx.tables, 9, 'q');
    this.enqueueSignalSql = { plain, withEvents: `WITH q AS (${plain}), ${events.ctes} ${events.select}` };
  }

  setup(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  migrate(): Promise<MigrationResult> {
    return this.ctx.migrate();
  }

  async close(): Promise<void> {
    await this.ctx.close();
  }

  override async enqueue(options: EnqueueOptions): Promise<void> {
    const db = await this.ctx.sql();
    await db.query(this.sql.enqueue, this.enqueueParams(options));
  }

  /**
   * With a `PostgresSignalChannel` on the same database: one statement enqueues, stores the
   * outbox's events (when its bus shares this database too) and sends the wake-up notification,
   * delivered when the job is claimable. Otherwise as the port's default.
   */
  override async enqueueAndSignal(
    options: EnqueueOptions,
    wake: WakeUp,
    outbox?: EventOutbox | undefined,
  ): Promise<void> {
    const params = this.enqueueParams(options);
    const notify = this.notifyParams(wake);
    const write = this.enqueueSignalSql.plain;
    const writer = outboxWriterFor(this, outbox);
    const prepared = writer?.prepare(outbox!.events);
    if (outbox !== undefined && outbox.events.length > 0 && (writer === undefined || prepared === undefined)) {
      // The events cannot go in the statement: publish them first, as the default does.
      await publishOutbox(outbox);
    } else if (writer !== undefined && prepared !== undefined) {
      const text = this.enqueueSignalSql.withEvents;
      // The enqueue always writes its row (insert or update), so the events are always stored.
      await runWithEvents(() => this.ctx.sql(), writer, prepared, text, [...params, ...notify.params], (error) => mapValueError(error, 'event'));
      await this.publishApart(wake, notify.apart);
      return;
    }
    const db = await this.ctx.sql();
    await db.query(write, [...params, ...notify.params], { prepare: true });
    await this.publishApart(wake, notify.apart);
  }

  /**
   * The `pg_notify` parameters of a wake-up whose channel is a `PostgresSignalChannel` on this
   * database; nulls (no notification) for any other channel, which is published after the write (`apart`).
   */
  private notifyParams(wake: WakeUp): { params: [string | null, string | null]; apart: boolean } {
    const notification = notificationOn(this.ctx.database, wake);
    return notification === undefined ? { params: [null, null], apart: true } : { params: [notification.channel, notification.payload], apart: false };
  }

  /** Publishes a wake-up the write could not send (its channel elsewhere: Redis, memory); a failure goes to `onSignalError`. */
  private async publishApart(wake: WakeUp, apart: boolean): Promise<void> {
    if (apart) await wake.channels.publish(wake.channel, wake.signal).catch((error: unknown) => wake.onSignalError?.(error));
  }

  /**
   * With a `PostgresJobStore`, signals and (for the events) a bus on this database: one statement
   * creates the job, and only when it did (no job with that id or idempotency key yet) enqueues
   * it, stores the outbox's events and sends the wake-up. Otherwise as the port's default.
   */
  override async enqueueNewJob(
    create: { store: JobStore; job: JobRecord; outbox?: EventOutbox | undefined },
    wake: WakeUp,
  ): Promise<CreateJobResult> {
    const { store } = create;
    if (!this.sharesDatabaseWith(store)) return super.enqueueNewJob(create, wake);
    const prior = store.createWrite(create.job);
    const written = await this.enqueueAfterWrite({ jobId: prior.record.id, scopeId: prior.record.scopeId, priority: prior.record.priority }, wake, create.outbox, prior);
    if (written === undefined) return super.enqueueNewJob(create, wake);
    if (written) return { job: prior.record, created: true };
    return store.notCreated(prior.record);
  }

  /**
   * Internal to this package: another store's `prior` write (CTEs), then, only when `prior.gate`
   * returned a row, the enqueue with the outbox's events and the wake-up notification, in one
   * statement (`PostgresActionStore.compareAndSetWithEnqueue`: an answer with its job's return to
   * the queue). A wake-up on a channel elsewhere (Redis, memory) is published once the statement
   * wrote. Whether the gate passed; `undefined`, having written nothing, when the outbox's bus is
   * not on this database (the caller writes the ordinary way).
   */
  async enqueueAfterWrite(
    options: EnqueueOptions,
    wake: WakeUp,
    outbox: EventOutbox | undefined,
    prior: PriorWrite,
  ): Promise<boolean | undefined> {
    const params = this.enqueueParams(options);
    const notify = this.notifyParams(wake);
    const writer = outboxWriterFor(this, outbox);
    const prepared = writer?.prepare(outbox!.events);
    const hasEvents = outbox !== undefined && outbox.events.length > 0;
    if (hasEvents && (writer === undefined || prepared === undefined)) return undefined;
    const all = [...params, ...notify.params];
    const key = prior.key === undefined ? undefined : `enqueue|${prior.key}|${prior.params.length}`;
    const priorAndEnqueue = () => `${prior.ctes(all.length + 1)}, q AS (${this.sql.enqueueAfter(prior.gate)} RETURNING ${NOTIFY_7_8} AS notified)`;
    const mapError = (error: unknown) => prior.mapError?.(error) ?? mapValueError(error, prior.argument);
    let written: boolean;
    if (writer !== undefined && prepared !== undefined) {
      const text = this.texts.get(key && `${key}|e`, () => {
        const events = eventBatchSql(this.ctx.tables, all.length + prior.params.length + 1, 'q');
        return `WITH ${priorAndEnqueue()}, ${events.ctes} ${events.select}`;
      });
      written = (await runWithEvents(() => this.ctx.sql(), writer, prepared, text, [...all, ...prior.params], mapError)) !== undefined;
    } else {
      const db = await this.ctx.sql();
      try {
        const text = this.texts.get(key, () => `WITH ${priorAndEnqueue()} SELECT count(*)::int AS n FROM q`);
        const { rows } = await db.query<{ n: number }>(text, [...all, ...prior.params], { prepare: true });
        written = Number(rows[0]?.n ?? 0) > 0;
      } catch (error) {
        throw mapError(error);
      }
    }
    if (written) await this.publishApart(wake, notify.apart);
    return written;
  }

  private enqueueParams(options: EnqueueOptions): unknown[] {
    const ref = checkRef(options);
    const priority = options.priority ?? 'normal';
    if (!PRIORITIES.has(priority)) throw new InvalidArgumentError('priority', `must be one of ${JOB_PRIORITIES.join(', ')}`);
    const now = Math.floor(this.now());
    const availableAt = options.availableAt ?? now;
    if (!Number.isFinite(availableAt)) throw new InvalidArgumentError('availableAt', 'must be epoch milliseconds');
    return [ref.scopeId, ref.jobId, priority, jobPriorityRank(priority), now, Math.floor(availableAt)];
  }

  override async claim(options: ClaimOptions): Promise<ClaimResult> {
    if (typeof options?.workerId !== 'string' || options.workerId === '') throw new InvalidArgumentError('workerId', 'required');
    if (!Number.isFinite(options.leaseMs) || options.leaseMs <= 0) throw new InvalidArgumentError('leaseMs', 'must be a positive number');
    const limit = options.limit ?? 1;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', 'must be a positive integer');
    const perScope = options.perScopeLimit;
    if (perScope !== undefined && (!Number.isInteger(perScope) || perScope < 1)) throw new InvalidArgumentError('perScopeLimit', 'must be a positive integer');
    const leaseMs = Math.ceil(options.leaseMs);
    const now = Math.floor(this.now());
    const db = await this.ctx.sql();
    if (perScope === undefined) {
      // The common case in one statement; then what it left: ready jobs that reached maxClaims
      // are dead-lettered, and leases that expired in it (its snapshot did not see them ready)
      // are claimed the long way when there is room.
      // A waiting job's journal and actions come with its claim when the worker's stores are on this database.
      const reads = options.reads !== undefined && storeOnDatabase(options.reads.journal, this.ctx.database) && storeOnDatabase(options.reads.actions, this.ctx.database);
      const fast = await this.claimFast(db, options.workerId, limit, leaseMs, now, reads);
      const deadLettered = fast.poison ? await this.deadLetterPoison(db, now) : [];
      if (fast.swept === 0 || fast.jobs.length === limit) return { jobs: fast.jobs, deadLettered };
      const rest = await this.claimInTransaction(db, options.workerId, limit - fast.jobs.length, perScope, leaseMs, now);
      return { jobs: [...fast.jobs, ...rest.jobs], deadLettered: [...deadLettered, ...rest.deadLettered] };
    }
    return this.claimInTransaction(db, options.workerId, limit, perScope, leaseMs, now);
  }

  /** Sweeps expired leases, dead-letters poison jobs, applies the per-scope limit and leases, in one transaction. */
  private claimInTransaction(db: SqlClient, workerId: string, limit: number, perScope: number | undefined, leaseMs: number, now: number): Promise<ClaimResult> {
    return db.transaction(async (tx) => {
      if (perScope !== undefined) {
        await tx.query('SELECT pg_advisory_xact_lock($1::int4, hashtext($2::text))', [PER_SCOPE_CLAIM_LOCK_CLASS, this.ctx.database.schema]);
      }
      await tx.query(this.sql.sweepExpired, [now]);
      const chosen: Candidate[] = [];
      const deadLettered: DeadLetteredJob[] = [];
      const leased = new Map<string, number>();
      // Without a per-scope limit every candidate but a poison one is taken: lock no more rows than needed.
      const batchSize = perScope === undefined ? limit : Math.max(32, limit * 4);
      let after: [number, string, string] = [-1, '0', '0'];
      for (;;) {
        const { rows } = await tx.query<Candidate>(this.sql.candidates, [now, after[0], after[1], after[2], batchSize]);
        if (perScope !== undefined) await this.countLeased(tx, rows, leased);
        for (const row of rows) {
          if (chosen.length >= limit) break;
          if (row.claims >= this.maxClaims) {
            deadLettered.push(await this.deadLetter(tx, row, now));
            continue;
          }
          if (perScope !== undefined) {
            const inScope = leased.get(row.scope_id) ?? 0;
            if (inScope >= perScope) continue;
            leased.set(row.scope_id, inScope + 1);
          }
          chosen.push(row);
        }
        const last = rows[rows.length - 1];
        if (chosen.length >= limit || rows.length < batchSize || !last) break;
        after = [last.priority_rank, last.enqueued_ms, last.ord_text];
      }
      if (chosen.length === 0) return { jobs: [], deadLettered };
      const leaseExpiresAt = now + leaseMs;
      const { rows } = await tx.query<{ scope_id: string; job_id: string; priority: JobPriority; claims: number; epoch_text: string }>(this.sql.lease, [
        chosen.map((c) => c.scope_id),
        chosen.map((c) => c.job_id),
        workerId,
        leaseMs,
        leaseExpiresAt,
      ]);
      const byKey = new Map(rows.map((r) => [`${r.scope_id}\u0000${r.job_id}`, r]));
      const jobs: ClaimedJob[] = [];
      for (const c of chosen) {
        const r = byKey.get(`${c.scope_id}\u0000${c.job_id}`);
        if (!r) continue;
        jobs.push({ jobId: r.job_id, scopeId: r.scope_id, workerId, epoch: num(r.epoch_text), priority: r.priority, leaseExpiresAt, claims: r.claims });
      }
      return { jobs, deadLettered };
    });
  }

  /** Claims without a per-scope limit in one statement (no dead-lettering: see `claimFast` in queue-sql). */
  private async claimFast(db: SqlExecutor, workerId: string, limit: number, leaseMs: number, now: number, reads: boolean): Promise<{ jobs: ClaimedJob[]; swept: number; poison: boolean }> {
    type Row = { scope_id: string | null; job_id: string | null; priority: JobPriority; claims: number; epoch_text: string; priority_rank: number; enqueued_ms: string; ord_text: string; job_record: string | null; swept: number; poison: boolean } & Partial<ResumeReadsRow>;
    const leaseExpiresAt = now + leaseMs;
    const { rows } = await db.query<Row>(reads ? this.sql.claimFastWithReads : this.sql.claimFast, [now, this.maxClaims, limit, workerId, leaseMs, leaseExpiresAt], { prepare: true });
    const leased = rows.filter((r) => r.job_id !== null && r.scope_id !== null);
    // Claim order: priority, then age (the statement's RETURNING has none).
    leased.sort((a, b) => a.priority_rank - b.priority_rank || num(a.enqueued_ms) - num(b.enqueued_ms) || compareBig(a.ord_text, b.ord_text));
    const jobs = leased.map((r): ClaimedJob => {
      const job = jobOf(r);
      const claimed = { jobId: r.job_id!, scopeId: r.scope_id!, workerId, epoch: num(r.epoch_text), priority: r.priority, leaseExpiresAt, claims: r.claims, job };
      const read = reads && job !== undefined ? resumeReadsOf(claimed, r) : undefined;
      return read === undefined ? claimed : { ...claimed, reads: read };
    });
    return { jobs, swept: rows[0]?.swept ?? 0, poison: rows[0]?.poison === true };
  }

  override async heartbeat(lease: LeaseRef & { leaseMs?: number | undefined }): Promise<{ leaseExpiresAt: number }> {
    if (lease.leaseMs !== undefined && !(Number.isFinite(lease.leaseMs) && lease.leaseMs > 0)) throw new InvalidArgumentError('leaseMs', 'must be a positive number');
    const { rows } = await this.onLease(lease, this.sql.heartbeat, [lease.leaseMs === undefined ? null : Math.ceil(lease.leaseMs)]);
    return { leaseExpiresAt: num((rows[0] as { lease_expires_ms: string }).lease_expires_ms) };
  }

  override async ack(lease: LeaseRef): Promise<void> {
    await this.onLease(lease, this.sql.ack, [this.ctx.tables.queue]);
  }

  /**
   * With a `PostgresJobStore` (and its bus) on the same database: one statement acks the lease
   * and, only when it held, writes the job's change and its events. When it wrote nothing because
   * the lease is gone: `LeaseLostError`, nothing written; when the job had changed: as the port's
   * default (which reports the conflict).
   */
  override async ackWithJobUpdate(lease: LeaseRef, update: { store: JobStore; job: JobRecord; outbox?: EventOutbox | undefined }): Promise<{ job: JobRecord; events: RuntimeEvent[] }> {
    const { store } = update;
    if (!this.sharesDatabaseWith(store)) return super.ackWithJobUpdate(lease, update);
    const ack = this.ackWrite(lease, update.job);
    const prior: PriorWrite = {
      // The job locked at the version and identity its update expects, then the ack only if it
      // is: the ack and the job's change are both written or neither.
      ctes: (first) => `${lockedJobSql(this.ctx.tables)}, ${ack.ctes(first, 'lj')}`,
      key: 'ack',
      gate: 'ak',
      params: ack.params,
      argument: 'job',
    };
    const written = await store.updateAfterWrite(update.job, update.outbox, prior);
    if (written !== undefined) return written;
    // Nothing written: the lease is gone (refuse, as ack does), or the job changed (the default says how).
    await this.heartbeat({ ...lease, leaseMs: undefined });
    return super.ackWithJobUpdate(lease, update);
  }

  /**
   * Internal to this package: the ack of `lease` (the lease of `job`, checked) as CTE `ak`, for
   * another store's statement: written only when the lease holds and the earlier CTE `gate`
   * returned a row; its parameters start at `$first`.
   */
  ackWrite(lease: LeaseRef, job: JobRecord): { ctes(first: number, gate: string): string; readonly params: readonly unknown[] } {
    const ref = checkRef(lease);
    if (ref.scopeId !== job.scopeId || ref.jobId !== job.id) throw new InvalidArgumentError('lease', 'must be the lease of the job written');
    if (!Number.isInteger(lease.epoch)) throw new InvalidArgumentError('epoch', 'must be an integer');
    return {
      ctes: (first, gate) => this.sql.ackAfter(first, gate),
      params: [ref.scopeId, ref.jobId, lease.epoch, lease.workerId, Math.floor(this.now()), this.ctx.tables.queue],
    };
  }

  /** Internal to this package: whether `store` is a `PostgresJobStore` that one statement of this queue can write to (same database). */
  sharesDatabaseWith(store: JobStore): store is PostgresJobStore {
    return store instanceof PostgresJobStore && storeOnDatabase(store, this.ctx.database);
  }

  override async nack(lease: LeaseRef & { retryDelayMs?: number | undefined; reason?: string | undefined }): Promise<NackResult> {
    const delay = lease.retryDelayMs ?? 0;
    if (!Number.isFinite(delay) || delay < 0) throw new InvalidArgumentError('retryDelayMs', 'must be a number ≥ 0');
    const { rows, now } = await this.onLease(lease, this.sql.nack, [lease.reason ?? 'nacked', this.maxClaims, Math.ceil(delay)]);
    const row = rows[0] as { state: string; priority: JobPriority; claims: number; dead_letter_reason: string; available_ms: string };
    if (row.state === 'dead_lettered') {
      return { status: 'dead_lettered', deadLettered: { jobId: lease.jobId, scopeId: lease.scopeId, priority: row.priority, claims: row.claims, reason: row.dead_letter_reason, at: now } };
    }
    return { status: 'retry_scheduled', availableAt: num(row.available_ms) };
  }

  override async release(lease: LeaseRef & { delayMs?: number | undefined }): Promise<void> {
    const delay = lease.delayMs ?? 0;
    if (!Number.isFinite(delay) || delay < 0) throw new InvalidArgumentError('delayMs', 'must be a number ≥ 0');
    await this.onLease(lease, this.sql.release, [Math.ceil(delay)]);
  }

  override async remove(ref: JobRef): Promise<boolean> {
    const r = checkRef(ref);
    const db = await this.ctx.sql();
    return (await db.query(this.sql.remove, [r.scopeId, r.jobId])).rowCount > 0;
  }

  override async get(ref: JobRef): Promise<QueueEntry | undefined> {
    const r = checkRef(ref);
    const db = await this.ctx.sql();
    const { rows } = await db.query<Record<string, string | number | null>>(this.sql.get, [r.scopeId, r.jobId]);
    const row = rows[0];
    if (!row || row.state === 'done') return undefined;
    if (!PRIORITIES.has(String(row.priority)) || !['ready', 'leased', 'dead_lettered'].includes(String(row.state))) {
      throw new CorruptRecordError({ recordType: 'queue_entry', recordId: r.jobId, jobId: r.jobId, scopeId: r.scopeId, issue: `state '${String(row.state)}', priority '${String(row.priority)}'` });
    }
    return {
      jobId: String(row.job_id),
      scopeId: String(row.scope_id),
      priority: row.priority as JobPriority,
      state: row.state as QueueEntry['state'],
      enqueuedAt: num(row.enqueued_ms),
      availableAt: num(row.available_ms),
      claims: num(row.claims),
      epoch: num(row.epoch_text),
      workerId: row.worker_id === null ? undefined : String(row.worker_id),
      leaseExpiresAt: row.lease_expires_ms === null ? undefined : num(row.lease_expires_ms),
      lastFailure: row.last_failure === null ? undefined : String(row.last_failure),
      deadLetterReason: row.dead_letter_reason === null ? undefined : String(row.dead_letter_reason),
    };
  }

  override async listDeadLettered(options: { scopeId: string; limit?: number | undefined }): Promise<readonly DeadLetteredJob[]> {
    const limit = options.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new InvalidArgumentError('limit', 'must be a positive integer');
    const db = await this.ctx.sql();
    const { rows } = await db.query<{ scope_id: string; job_id: string; priority: JobPriority; claims: number; dead_letter_reason: string; dead_lettered_ms: string }>(
      this.sql.listDeadLettered,
      [options.scopeId, limit ?? null],
    );
    return rows.map((r) => ({ jobId: r.job_id, scopeId: r.scope_id, priority: r.priority, claims: r.claims, reason: r.dead_letter_reason, at: num(r.dead_lettered_ms) }));
  }

  /** Runs a statement conditioned on the lease; when it changed nothing, says why with `LeaseLostError`. */
  private async onLease(lease: LeaseRef, text: string, extra: unknown[]): Promise<{ rows: Record<string, unknown>[]; now: number }> {
    const ref = checkRef(lease);
    if (!Number.isInteger(lease.epoch)) throw new InvalidArgumentError('epoch', 'must be an integer');
    const now = Math.floor(this.now());
    const db = await this.ctx.sql();
    const result = await db.query(text, [ref.scopeId, ref.jobId, lease.epoch, lease.workerId, now, ...extra], { prepare: true });
    if (result.rowCount > 0) return { rows: result.rows, now };
    const current = await this.get(ref);
    const lost = (reason: string, currentEpoch?: number) => new LeaseLostError({ jobId: ref.jobId, leaseEpoch: lease.epoch, workerId: lease.workerId, currentEpoch, reason });
    if (!current) throw lost('the job is not in the queue');
    if (current.state !== 'leased' || current.epoch !== lease.epoch || current.workerId !== lease.workerId) throw lost('the job was claimed again or released', current.epoch);
    throw lost('the lease expired', current.epoch);
  }

  private async countLeased(tx: SqlExecutor, rows: readonly Candidate[], leased: Map<string, number>): Promise<void> {
    const scopes = [...new Set(rows.map((r) => r.scope_id))].filter((s) => !leased.has(s));
    if (scopes.length === 0) return;
    for (const s of scopes) leased.set(s, 0);
    const { rows: counts } = await tx.query<{ scope_id: string; leased: number }>(this.sql.leasedPerScope, [scopes]);
    for (const c of counts) leased.set(c.scope_id, num(c.leased));
  }

  private async deadLetterPoison(db: SqlExecutor, now: number): Promise<DeadLetteredJob[]> {
    const { rows } = await db.query<{ scope_id: string; job_id: string; priority: JobPriority; claims: number; dead_letter_reason: string }>(this.sql.deadLetterPoison, [now, this.maxClaims]);
    return rows.map((r) => ({ jobId: r.job_id, scopeId: r.scope_id, priority: r.priority, claims: r.claims, reason: r.dead_letter_reason, at: now }));
  }

  private async deadLetter(tx: SqlExecutor, row: Candidate, now: number): Promise<DeadLetteredJob> {
    const reason = `claimed ${row.claims} times without completing (maxClaims ${this.maxClaims}); last: ${row.last_failure ?? 'unknown'}`;
    await tx.query(this.sql.deadLetter, [row.scope_id, row.job_id, row.claims, reason, now]);
    return { jobId: row.job_id, scopeId: row.scope_id, priority: row.priority, claims: row.claims, reason, at: now };
  }
}

function checkRef<T extends JobRef>(ref: T): T {
  if (typeof ref?.jobId !== 'string' || ref.jobId === '') throw new InvalidArgumentError('jobId', 'required');
  if (typeof ref.scopeId !== 'string' || ref.scopeId === '') throw new InvalidArgumentError('scopeId', 'required');
  return ref;
}

function compareBig(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The claimed job's record read with the claim; a row that does not load is left for the worker to read (and report). */
function jobOf(row: { scope_id: string | null; job_id: string | null; job_record: string | null }): JobRecord | undefined {
  if (row.job_record === null || row.scope_id === null || row.job_id === null) return undefined;
  try {
    const job = parseJobRecord(parseJsonText(row.job_record), { scopeId: row.scope_id, jobId: row.job_id });
    return job.id === row.job_id && job.scopeId === row.scope_id ? job : undefined;
  } catch {
    return undefined;
  }
}
