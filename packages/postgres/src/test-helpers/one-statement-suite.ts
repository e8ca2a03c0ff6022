import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@baton/llm-client';
import {
  ConcurrentModificationError,
  InMemoryEventBus,
  InMemoryJournalStore,
  JobAlreadyExistsError,
  JobNotFoundError,
  JournalConflictError,
  LeaseLostError,
  type JobRecord,
  type JournalEntryInput,
  type RuntimeEvent,
  type RuntimeEventInput,
} from '@baton/agent-runtime';
import { makeTestJobRecord } from '@baton/agent-runtime/testing';
import { BatonDatabase } from '../database.js';
import { PostgresEventBus } from '../events/postgres-event-bus.js';
import { PostgresJobQueue } from '../queue/postgres-job-queue.js';
import type { QueryOptions, SqlClient, SqlExecutor, SqlResult } from '../sql/sql-client.js';
import { PostgresActionStore } from '../stores/postgres-action-store.js';
import { PostgresSignalChannel } from '../stores/postgres-signal-channel.js';
import { PostgresJobStore } from '../stores/postgres-job-store.js';
import { PostgresJournalStore } from '../stores/postgres-journal-store.js';
import { freshSchemaName } from './environment.js';
import type { TestBackend } from './backends.js';

const LISTENER_REGISTRATION = /(INSERT INTO|DELETE FROM) \S*"bus_listeners"/;

/** A `SqlClient` that records every statement it runs (BEGIN and COMMIT of a transaction included), then hands it on. */
export class CountingSqlClient implements SqlClient {
  readonly kind: SqlClient['kind'];
  readonly statements: string[] = [];
  readonly listen?: SqlClient['listen'];

  constructor(private readonly inner: SqlClient) {
    this.kind = inner.kind;
    if (inner.listen) this.listen = (channel, handler) => inner.listen!(channel, handler);
  }

  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlResult<Row>> {
    this.statements.push(text);
    return this.inner.query<Row>(text, params, options);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    this.statements.push('BEGIN');
    const value = await this.inner.transaction((tx) =>
      fn({
        query: <Row>(text: string, params?: readonly unknown[], options?: QueryOptions) => {
          this.statements.push(text);
          return tx.query<Row>(text, params, options);
        },
      }),
    );
    this.statements.push('COMMIT');
    return value;
  }

  /**
   * The statements run by `fn`, but for a listening bus's registration (or its renewal or end),
   * which a subscription made earlier may send at any moment on a server.
   */
  async during(fn: () => Promise<unknown>): Promise<string[]> {
    const from = this.statements.length;
    await fn();
    return this.statements.slice(from).filter((text) => !LISTENER_REGISTRATION.test(text));
  }

  async close(): Promise<void> {}
}

/** A counting client on `backend` and a fresh schema migrated on it: what a suite counting statements starts from. */
export async function openCountingDatabase(backend: TestBackend): Promise<{ client: CountingSqlClient; database: BatonDatabase }> {
  const client = new CountingSqlClient(await backend.client());
  const database = new BatonDatabase({ client, schema: freshSchemaName() });
  await database.migrate();
  return { client, database };
}

/** Drops the schema of `openCountingDatabase` (when it got that far) and closes the backend. */
export async function closeCountingDatabase(backend: TestBackend, database: BatonDatabase | undefined): Promise<void> {
  if (database) await (await backend.client()).query(`DROP SCHEMA IF EXISTS ${database.tables.schema} CASCADE`);
  await backend.close();
}

let counter = 0;
const unique = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/**
 * The stores' `…WithEvents` and the bus's `publishMany` on `backend`: each is one statement (one
 * round trip, one commit), writes events only when the write happened, fails as the plain write
 * does, and keeps a job's events in order with the bus's own publishes.
 */
export function describeOneStatementWrites(backend: TestBackend): void {
  describe(`one-statement writes: ${backend.name}`, () => {
    let client: CountingSqlClient;
    let database: BatonDatabase;
    let bus: PostgresEventBus;
    let journal: PostgresJournalStore;
    let jobs: PostgresJobStore;
    let scopeId: string;
    let jobId: string;

    const step = (name = 'step'): JournalEntryInput => ({ scopeId, jobId, kind: 'custom', name, status: 'completed', output: { ok: true }, startedAt: 1_700_000_000_000, durationMs: 1 });
    const delta = (text: string, job = jobId): RuntimeEventInput => ({ type: 'model.delta', scopeId, jobId: job, data: { model: 'm', textDelta: text } }) as RuntimeEventInput;
    const started = (job: JobRecord): RuntimeEventInput => ({ type: 'job.started', scopeId: job.scopeId, jobId: job.id, data: { from: 'queued', attempt: 1 } }) as RuntimeEventInput;
    const created = (job: JobRecord): RuntimeEventInput => ({ type: 'job.created', scopeId: job.scopeId, jobId: job.id, data: { status: 'queued', priority: 'normal', principalId: job.principalId } }) as RuntimeEventInput;

    beforeAll(async () => {
      ({ client, database } = await openCountingDatabase(backend));
      bus = new PostgresEventBus({ database });
      journal = new PostgresJournalStore({ database });
      jobs = new PostgresJobStore({ database });
    });
    afterAll(async () => {
      await bus?.close();
      await closeCountingDatabase(backend, database);
    });
    beforeEach(() => {
      scopeId = unique('scope');
      jobId = unique('job');
    });

    it('shares transactions with the journal and job stores on its client and schema, and nothing else', async () => {
      expect(bus.sharesTransactionsWith(journal)).toBe(true);
      expect(bus.sharesTransactionsWith(jobs)).toBe(true);
      // Another database object on the same client and schema is the same database.
      expect(bus.sharesTransactionsWith(new PostgresJournalStore({ client, schema: database.schema }))).toBe(true);
      expect(bus.sharesTransactionsWith(new PostgresJournalStore({ client, schema: freshSchemaName() }))).toBe(false);
      expect(bus.sharesTransactionsWith(new PostgresJobStore({ client: new CountingSqlClient(client), schema: database.schema }))).toBe(false);
      expect(bus.sharesTransactionsWith(new PostgresActionStore({ database }))).toBe(false);
      expect(bus.sharesTransactionsWith(new InMemoryJournalStore())).toBe(false);
      expect(new InMemoryEventBus().sharesTransactionsWith(journal)).toBe(false);
    });

    it('appendWithEvents with three events is one statement: the entry, the events in order after the job\'s earlier ones, delivered locally', async () => {
      const seen: RuntimeEvent[] = [];
      const stop = bus.subscribe((e) => void seen.push(e), { jobId, scopeId });
      await bus.publish(delta('before'));
      let result: Awaited<ReturnType<PostgresJournalStore['appendWithEvents']>> | undefined;
      const statements = await client.during(async () => {
        result = await journal.appendWithEvents(step('first'), { expectedSeq: 0, leaseEpoch: 1 }, { bus, events: [delta('a'), delta('b'), delta('c')] });
      });
      expect(statements).toHaveLength(1);
      expect(result!.entry).toMatchObject({ seq: 0, name: 'first', leaseEpoch: 1 });
      expect(result!.events.map((e) => [e.seq, (e.data as { textDelta: string }).textDelta])).toEqual([
        [2, 'a'],
        [3, 'b'],
        [4, 'c'],
      ]);
      expect((await bus.replay({ scopeId, jobId })).slice(1)).toEqual(result!.events);
      await expect.poll(() => seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      stop();
      expect(await journal.list({ scopeId, jobId })).toEqual([result!.entry]);
    });

    it('appendMany of three entries with their events is one statement, after a seq-0 batch that is one too; a refused one stores nothing', async () => {
      const seen: RuntimeEvent[] = [];
      const stop = bus.subscribe((e) => void seen.push(e), { jobId, scopeId });
      let result: Awaited<ReturnType<PostgresJournalStore['appendMany']>> | undefined;
      expect(await client.during(async () => void (result = await journal.appendMany([step('s0')], { expectedSeq: 0, leaseEpoch: 1 }, { bus, events: [delta('a')] })))).toHaveLength(1);
      const statements = await client.during(async () => {
        result = await journal.appendMany([step('s1'), step('s2'), step('s3')], { expectedSeq: 1, leaseEpoch: 1 }, { bus, events: [delta('b'), delta('c')] });
      });
      expect(statements).toHaveLength(1);
      expect(result!.entries.map((e) => [e.seq, e.name, e.leaseEpoch])).toEqual([
        [1, 's1', 1],
        [2, 's2', 1],
        [3, 's3', 1],
      ]);
      expect(result!.events.map((e) => [e.seq, (e.data as { textDelta: string }).textDelta])).toEqual([
        [2, 'b'],
        [3, 'c'],
      ]);
      expect((await journal.list({ scopeId, jobId })).slice(1)).toEqual(result!.entries);
      await expect(journal.appendMany([step('x'), step('y')], { expectedSeq: 3, leaseEpoch: 1 }, { bus, events: [delta('dup')] })).rejects.toMatchObject({ code: 'journal_conflict', nextSeq: 4 });
      await expect(journal.appendMany([step('x'), step('y')], { expectedSeq: 4, leaseEpoch: 0 }, { bus, events: [delta('stale')] })).rejects.toBeInstanceOf(LeaseLostError);
      // JSONB refuses NUL: the whole statement fails, the other entries and the events included.
      await expect(journal.appendMany([step('x'), { ...step('y'), output: { text: 'nul \u0000' } }], { expectedSeq: 4 }, { bus, events: [delta('ok')] })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'entries' });
      await expect(journal.appendMany([step('x'), step('y')], { expectedSeq: 4 }, { bus, events: [delta('nul \u0000')] })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'event' });
      expect(await journal.head({ scopeId, jobId })).toEqual({ nextSeq: 4, firstSeq: 0, leaseEpoch: 1 });
      expect((await bus.replay({ scopeId, jobId })).map((e) => (e.data as { textDelta: string }).textDelta)).toEqual(['a', 'b', 'c']);
      await expect.poll(() => seen.map((e) => e.seq)).toEqual([1, 2, 3]);
      stop();
      // Without events: one statement, no event written.
      const plain = await client.during(async () => void (result = await journal.appendMany([step('s4'), step('s5')], { expectedSeq: 4 })));
      expect(plain).toHaveLength(1);
      expect(plain[0]).not.toMatch(/event_seqs/);
      expect(result!.entries.map((e) => e.seq)).toEqual([4, 5]);
    });

    it('publishMany of one job is one statement, no transaction', async () => {
      let published: RuntimeEvent[] = [];
      const statements = await client.during(async () => {
        published = await bus.publishMany([delta('x'), delta('y'), delta('z')]);
      });
      expect(statements).toHaveLength(1);
      expect(statements[0]).not.toMatch(/^\s*BEGIN/i);
      expect(published.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(await bus.replay({ scopeId, jobId })).toEqual(published);
      // Several jobs: one by one, each job's seqs its own.
      const other = unique('job');
      const mixed = await bus.publishMany([delta('p'), delta('q', other), delta('r')]);
      expect(mixed.map((e) => [e.jobId === other, e.seq])).toEqual([
        [false, 4],
        [true, 1],
        [false, 5],
      ]);
    });

    it('createWithEvents and updateWithEvents are one statement each', async () => {
      const job = makeTestJobRecord({ scopeId, idempotencyKey: unique('key') });
      let createdResult: Awaited<ReturnType<PostgresJobStore['createWithEvents']>> | undefined;
      expect(await client.during(async () => void (createdResult = await jobs.createWithEvents(job, { bus, events: [created(job)] })))).toHaveLength(1);
      expect(createdResult).toMatchObject({ created: true, job });
      expect(createdResult!.events.map((e) => [e.type, e.seq])).toEqual([['job.created', 1]]);
      let updated: Awaited<ReturnType<PostgresJobStore['updateWithEvents']>> | undefined;
      const running = { ...job, status: 'running' as const };
      expect(await client.during(async () => void (updated = await jobs.updateWithEvents(running, { bus, events: [started(job)] })))).toHaveLength(1);
      expect(updated!.job).toMatchObject({ status: 'running', version: 2 });
      expect(updated!.events.map((e) => [e.type, e.seq])).toEqual([['job.started', 2]]);
      expect(await bus.replay({ scopeId, jobId: job.id })).toEqual([...createdResult!.events, ...updated!.events]);
      expect(await jobs.get({ scopeId, jobId: job.id })).toEqual(updated!.job);
    });

    it('a refused append stores none of its events and fails as append does', async () => {
      await journal.appendWithEvents(step(), { expectedSeq: 0, leaseEpoch: 2 }, { bus, events: [delta('kept')] });
      await expect(journal.appendWithEvents(step(), { expectedSeq: 0, leaseEpoch: 2 }, { bus, events: [delta('dup')] })).rejects.toBeInstanceOf(JournalConflictError);
      await expect(journal.appendWithEvents(step(), { expectedSeq: 1, leaseEpoch: 1 }, { bus, events: [delta('stale')] })).rejects.toBeInstanceOf(LeaseLostError);
      await expect(journal.appendWithEvents(step(), { expectedSeq: 3, leaseEpoch: 2 }, { bus, events: [delta('gap')] })).rejects.toMatchObject({ code: 'journal_conflict', nextSeq: 1 });
      expect((await bus.replay({ scopeId, jobId })).map((e) => (e.data as { textDelta: string }).textDelta)).toEqual(['kept']);
      // The job's next event still gets the next seq: nothing was reserved for the refused ones.
      expect((await bus.publish(delta('next'))).seq).toBe(2);
      expect(await journal.head({ scopeId, jobId })).toEqual({ nextSeq: 1, firstSeq: 0, leaseEpoch: 2 });
    });

    it('a refused create or update stores none of its events and fails as create and update do', async () => {
      const key = unique('key');
      const job = makeTestJobRecord({ scopeId, idempotencyKey: key });
      await jobs.createWithEvents(job, { bus, events: [created(job)] });
      const again = makeTestJobRecord({ scopeId, idempotencyKey: key });
      expect(await jobs.createWithEvents(again, { bus, events: [created(again)] })).toEqual({ job, created: false, events: [] });
      const sameId = makeTestJobRecord({ scopeId, id: job.id });
      await expect(jobs.createWithEvents(sameId, { bus, events: [created(sameId)] })).rejects.toBeInstanceOf(JobAlreadyExistsError);
      await jobs.updateWithEvents({ ...job, status: 'running' }, { bus, events: [started(job)] });
      await expect(jobs.updateWithEvents({ ...job, status: 'cancelled' }, { bus, events: [started(job)] })).rejects.toBeInstanceOf(ConcurrentModificationError);
      const missing = makeTestJobRecord({ scopeId });
      await expect(jobs.updateWithEvents(missing, { bus, events: [started(missing)] })).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(jobs.updateWithEvents({ ...job, version: 2, principalId: 'someone-else' }, { bus, events: [started(job)] })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'job.principalId' });
      expect((await bus.replay({ scopeId, jobId: job.id })).map((e) => [e.type, e.seq])).toEqual([
        ['job.created', 1],
        ['job.started', 2],
      ]);
      expect(await bus.replay({ scopeId, jobId: again.id })).toEqual([]);
      expect(await bus.replay({ scopeId, jobId: missing.id })).toEqual([]);
    });

    it('refuses invalid input before writing anything, and a value the database refuses leaves neither entry nor events', async () => {
      const invalid = { type: 'model.delta', scopeId, jobId, data: { model: 'm' } } as RuntimeEventInput;
      const none = await client.during(async () => {
        await expect(journal.appendWithEvents(step(), { expectedSeq: 0 }, { bus, events: [delta('ok'), invalid] })).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(journal.appendWithEvents({ ...step(), kind: 'nonsense' } as unknown as JournalEntryInput, { expectedSeq: 0 }, { bus, events: [delta('ok')] })).rejects.toMatchObject({
          code: 'invalid_argument',
          argument: expect.stringMatching(/^entry/),
        });
      });
      expect(none.filter((text) => !/baton_migrations/.test(text))).toEqual([]);
      // JSONB refuses NUL: the whole statement fails, the entry included.
      await expect(journal.appendWithEvents(step(), { expectedSeq: 0 }, { bus, events: [delta('ok'), delta('nul \u0000')] })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'event' });
      await expect(journal.appendWithEvents({ ...step(), output: { text: 'nul \u0000' } }, { expectedSeq: 0 }, { bus, events: [delta('ok')] })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'entry' });
      expect(await journal.load({ scopeId, jobId })).toEqual({ entries: [], head: { nextSeq: 0, firstSeq: 0, leaseEpoch: 0 }, hasDeferredEvents: false });
      expect(await bus.replay({ scopeId, jobId })).toEqual([]);
    });

    it('keeps a job\'s order with publishes in flight: seqs and local delivery follow the calls', async () => {
      const seen: number[] = [];
      const stop = bus.subscribe((e) => void seen.push(e.seq), { jobId, scopeId });
      const [first, appended, last, many] = await Promise.all([
        bus.publish(delta('1')),
        journal.appendWithEvents(step(), { expectedSeq: 0 }, { bus, events: [delta('2'), delta('3')] }),
        bus.publish(delta('4')),
        bus.publishMany([delta('5'), delta('6')]),
      ]);
      expect([first.seq, ...appended.events.map((e) => e.seq), last.seq, ...many.map((e) => e.seq)]).toEqual([1, 2, 3, 4, 5, 6]);
      await expect.poll(() => seen).toEqual([1, 2, 3, 4, 5, 6]);
      stop();
    });

    it('falls back to append-then-publish for another bus or events of several jobs; no events is a plain append', async () => {
      const other = new InMemoryEventBus();
      const elsewhere = await journal.appendWithEvents(step(), { expectedSeq: 0 }, { bus: other, events: [delta('a')] });
      expect(elsewhere.events.map((e) => e.seq)).toEqual([1]);
      expect(await bus.replay({ scopeId, jobId })).toEqual([]);
      const otherJob = unique('job');
      const mixed = await journal.appendWithEvents(step(), { expectedSeq: 1 }, { bus, events: [delta('b'), delta('c', otherJob)] });
      expect(mixed.events.map((e) => [e.jobId, e.seq])).toEqual([
        [jobId, 1],
        [otherJob, 1],
      ]);
      const statements = await client.during(async () => {
        expect((await journal.appendWithEvents(step(), { expectedSeq: 2 }, { bus, events: [] })).events).toEqual([]);
      });
      expect(statements).toHaveLength(1);
      expect(statements[0]).not.toMatch(/event_seqs/);
    });

    it('load reads the head and every entry in one statement', async () => {
      for (let seq = 0; seq < 3; seq++) await journal.append(step(`s${seq}`), { expectedSeq: seq });
      await journal.fence({ scopeId, jobId, leaseEpoch: 5 });
      await journal.prune({ scopeId, jobId, beforeSeq: 1 });
      let loaded: Awaited<ReturnType<PostgresJournalStore['load']>> | undefined;
      expect(await client.during(async () => void (loaded = await journal.load({ scopeId, jobId })))).toHaveLength(1);
      expect(loaded!.head).toEqual({ nextSeq: 3, firstSeq: 1, leaseEpoch: 5 });
      expect(loaded!.entries.map((e) => e.name)).toEqual(['s1', 's2']);
      expect(loaded!.entries).toEqual(await journal.list({ scopeId, jobId }));
      // A head without entries (a fence alone), and another scope's view of the job.
      const fencedOnly = unique('job');
      await journal.fence({ scopeId, jobId: fencedOnly, leaseEpoch: 2 });
      expect(await journal.load({ scopeId, jobId: fencedOnly })).toEqual({ entries: [], head: { nextSeq: 0, firstSeq: 0, leaseEpoch: 2 }, hasDeferredEvents: false });
      expect(await journal.load({ scopeId: unique('scope'), jobId })).toEqual({ entries: [], head: { nextSeq: 0, firstSeq: 0, leaseEpoch: 0 }, hasDeferredEvents: false });
    });

    describe('queue claims', () => {
      let queue: PostgresJobQueue;
      let clock = 1_800_000_000_000;
      beforeAll(() => {
        queue = new PostgresJobQueue({ database, now: () => clock, maxClaims: 2 });
      });
      beforeEach(async () => {
        clock += 60_000;
        await database.client.query(`DELETE FROM ${database.tables.queue}`);
      });

      it('a claim without a per-scope limit is one statement, in priority then age order', async () => {
        await queue.enqueue({ scopeId, jobId: `${jobId}-low`, priority: 'low' });
        clock += 1;
        await queue.enqueue({ scopeId, jobId: `${jobId}-a`, priority: 'high' });
        clock += 1;
        await queue.enqueue({ scopeId, jobId: `${jobId}-b`, priority: 'high' });
        let claimed: Awaited<ReturnType<PostgresJobQueue['claim']>> | undefined;
        const statements = await client.during(async () => {
          claimed = await queue.claim({ workerId: 'w1', leaseMs: 10_000, limit: 3 });
        });
        expect(statements).toHaveLength(1);
        expect(claimed!.jobs.map((j) => j.jobId)).toEqual([`${jobId}-a`, `${jobId}-b`, `${jobId}-low`]);
        expect(claimed!.jobs.every((j) => j.epoch === 1 && j.claims === 1 && j.leaseExpiresAt === clock + 10_000)).toBe(true);
        // An idle claim is one statement too.
        expect(await client.during(() => queue.claim({ workerId: 'w1', leaseMs: 10_000 }))).toHaveLength(1);
      });

      it('dead-letters a job whose leases kept expiring (maxClaims) and claims the next one in the same call', async () => {
        await queue.enqueue({ scopeId, jobId: `${jobId}-poison`, priority: 'critical' });
        for (let i = 0; i < 2; i++) {
          expect((await queue.claim({ workerId: 'w1', leaseMs: 1_000 })).jobs.map((j) => j.jobId)).toEqual([`${jobId}-poison`]);
          clock += 5_000; // the worker died: its lease runs out
        }
        await queue.enqueue({ scopeId, jobId: `${jobId}-ok` });
        // This claim frees the expired lease; the poison job is ready again, behind nothing.
        expect((await queue.claim({ workerId: 'w2', leaseMs: 10_000 })).jobs.map((j) => j.jobId)).toEqual([`${jobId}-ok`]);
        await queue.enqueue({ scopeId, jobId: `${jobId}-next` });
        const result = await queue.claim({ workerId: 'w2', leaseMs: 10_000 });
        expect(result.jobs.map((j) => j.jobId)).toEqual([`${jobId}-next`]);
        expect(result.deadLettered).toEqual([
          expect.objectContaining({ jobId: `${jobId}-poison`, scopeId, claims: 2, reason: 'claimed 2 times without completing (maxClaims 2); last: lease expired', at: clock }),
        ]);
        expect((await queue.get({ scopeId, jobId: `${jobId}-poison` }))?.state).toBe('dead_lettered');
      });

      it('hands the claimed job\'s record over with the claim when the job store shares the schema', async () => {
        const { job } = await jobs.create(makeTestJobRecord({ scopeId, id: jobId }));
        await queue.enqueue({ scopeId, jobId });
        await queue.enqueue({ scopeId, jobId: `${jobId}-no-record` });
        let claimed: Awaited<ReturnType<PostgresJobQueue['claim']>> | undefined;
        expect(await client.during(async () => void (claimed = await queue.claim({ workerId: 'w1', leaseMs: 10_000, limit: 2 })))).toHaveLength(1);
        expect(claimed!.jobs.map((c) => [c.jobId, c.job])).toEqual([
          [jobId, job],
          [`${jobId}-no-record`, undefined],
        ]);
      });

      it('enqueueAndSignal is one statement: the job, the events before it, the wake-up delivered once it is claimable', async () => {
        const signals = new PostgresSignalChannel({ database });
        // Recorded in delivery order; each one's queue state is read as it arrives.
        const woken: Array<Promise<{ subjectId: string; claimable: boolean }>> = [];
        const off = await signals.subscribe('jobs.wake', (signal) => {
          woken.push(queue.get({ scopeId, jobId: signal.subjectId }).then((entry) => ({ subjectId: signal.subjectId, claimable: entry?.state === 'ready' })));
        });
        const wake = (id: string) => ({ channels: signals, channel: 'jobs.wake', signal: { schemaVersion: 1 as const, kind: 'job.enqueued' as const, scopeId, subjectId: id, at: clock } });
        const mine = (statements: string[]) => statements.filter((text) => !text.startsWith('SELECT q.scope_id, q.job_id, q.priority, q.state'));
        const first = await client.during(() => queue.enqueueAndSignal({ scopeId, jobId }, wake(jobId)));
        expect(mine(first), first.join('\n---\n')).toHaveLength(1);
        const announced = `${jobId}-announced`;
        const statements = await client.during(() => queue.enqueueAndSignal({ scopeId, jobId: announced }, wake(announced), { bus, events: [delta('resolved', announced)] }));
        expect(mine(statements), statements.join('\n---\n')).toHaveLength(1);
        expect((await bus.replay({ scopeId, jobId: announced })).map((e) => (e.data as { textDelta: string }).textDelta)).toEqual(['resolved']);
        await expect.poll(() => woken.length).toBe(2);
        expect(await Promise.all(woken)).toEqual([
          { subjectId: jobId, claimable: true },
          { subjectId: announced, claimable: true },
        ]);
        await off();
        await signals.close();
      });

      it('a lease that expired is claimed again by the same call that frees it', async () => {
        await queue.enqueue({ scopeId, jobId });
        const [first] = (await queue.claim({ workerId: 'w1', leaseMs: 1_000 })).jobs;
        clock += 5_000;
        const again = await queue.claim({ workerId: 'w2', leaseMs: 1_000 });
        expect(again.jobs).toEqual([expect.objectContaining({ jobId, workerId: 'w2', epoch: first!.epoch + 1, claims: 2 })]);
      });
    });
  });
}
