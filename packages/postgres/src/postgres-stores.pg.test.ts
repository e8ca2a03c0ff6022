import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { BatonError } from '@baton/llm-client';
import { RuntimeKernel, type RuntimeEvent, type Signal, type Workflow } from '@baton/agent-runtime';
import { makeTestJobRecord } from '@baton/agent-runtime/testing';
import { createPostgresStores } from './create-stores.js';
import { BatonDatabase } from './database.js';
import { MigrationError } from './errors/migration-error.js';
import { StoreUnavailableError } from './errors/store-unavailable-error.js';
import { PostgresEventBus } from './events/postgres-event-bus.js';
import { PgNotificationListener } from './notifications/pg-notification-listener.js';
import { PostgresJobQueue } from './queue/postgres-job-queue.js';
import { PgSqlClient } from './sql/pg-client.js';
import { PostgresJobStore } from './stores/postgres-job-store.js';
import { PostgresJournalStore } from './stores/postgres-journal-store.js';
import { PostgresSignalChannel } from './stores/postgres-signal-channel.js';
import { DATABASE_URL, dropSchema, freshSchemaName, listeningBackendPid, postgresAvailable } from './test-helpers/environment.js';

const available = await postgresAvailable();
const clients: PgSqlClient[] = [];
const schemas: string[] = [];

/** A client with its own pool: another process, as far as the server can tell. */
function client(max = 4): PgSqlClient {
  const c = new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max } });
  clients.push(c);
  return c;
}
function schema(): string {
  const s = freshSchemaName();
  schemas.push(s);
  return s;
}
async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  for (const s of schemas) await dropSchema(s);
});

describe.skipIf(!available)('Postgres: migrations', () => {
  it('applies each migration once when several processes migrate at once', async () => {
    const s = schema();
    const results = await Promise.all([client(), client(), client()].map((c) => new BatonDatabase({ client: c, schema: s }).migrate()));
    expect(results.map((r) => r.applied).sort()).toEqual([[], [], [1, 2, 3]]);
    expect(results.every((r) => r.version === 3)).toBe(true);
    const again = new BatonDatabase({ client: client(), schema: s });
    expect(await again.migrate()).toEqual({ applied: [], version: 3 });
    const { rows } = await again.client.query<{ n: number }>('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [s]);
    expect(rows[0]?.n).toBe(16);
  });

  it('refuses a database migrated by a newer version of the package', async () => {
    const s = schema();
    const db = new BatonDatabase({ client: client(), schema: s });
    await db.migrate();
    await db.client.query(`INSERT INTO ${db.tables.migrations} (version, name) VALUES (99, 'from the future')`);
    const error = await new BatonDatabase({ client: client(), schema: s }).migrate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).message).toMatch(/schema version 99/);
  });

  it('keeps two apps on two schemas apart', async () => {
    const c = client();
    const a = new PostgresJobStore({ client: c, schema: schema() });
    const b = new PostgresJobStore({ client: c, schema: schema() });
    const job = makeTestJobRecord({ scopeId: 'scope', id: 'shared-id' });
    await a.create(job);
    expect(await b.get({ scopeId: 'scope', jobId: 'shared-id' })).toBeUndefined();
    expect(await a.get({ scopeId: 'scope', jobId: 'shared-id' })).toEqual(job);
  });

  it('says to migrate when autoMigrate is off and the schema is not there, and works once migrated', async () => {
    const s = schema();
    const store = new PostgresJobStore({ client: client(), schema: s, autoMigrate: false });
    const error = await store.get({ scopeId: 'scope', jobId: 'j' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/call migrate\(\)/);
    expect((await store.migrate()).applied).toEqual([1, 2, 3]);
    expect(await store.get({ scopeId: 'scope', jobId: 'j' })).toBeUndefined();
  });

  it('prepares the per-step statements, unless told not to (behind a transaction pooler)', async () => {
    for (const preparedStatements of [true, false]) {
      // One connection, so that the session's prepared statements are the ones listed.
      const c = new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 1 }, preparedStatements });
      clients.push(c);
      const jobs = new PostgresJobStore({ client: c, schema: schema() });
      const { job } = await jobs.create(makeTestJobRecord({ scopeId: 'scope' }));
      expect((await jobs.update({ ...job, status: 'running' })).version).toBe(2);
      const { rows } = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'baton_%'`);
      expect(rows[0]?.n).toBe(preparedStatements ? 2 : 0);
    }
  });

  it('rejects invalid options at once', () => {
    expect(() => new PostgresJobStore({})).toThrow(/exactly one of/);
    expect(() => new PostgresJobStore({ connectionString: DATABASE_URL, client: client() })).toThrow(/exactly one of/);
    expect(() => new PostgresJobStore({ client: client(), schema: '' })).toThrow(/schema/);
    expect(() => new PostgresJobStore({ client: client(), schema: 'x'.repeat(64) })).toThrow(/63 bytes/);
  });

  it('leaves a pool it was given open on close', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const store = new PostgresJobStore({ pool, schema: schema() });
    await store.create(makeTestJobRecord({ scopeId: 'scope' }));
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    await pool.end();
  });
});

describe.skipIf(!available)('Postgres: lost connections', () => {
  it('reconnects after its connection is terminated: the next call succeeds or fails clearly, the one after succeeds', async () => {
    const c = client(1);
    const journal = new PostgresJournalStore({ client: c, schema: schema() });
    const ref = { scopeId: 'scope', jobId: 'job-kill' };
    const step = { ...ref, kind: 'model' as const, name: 'm', status: 'completed' as const, startedAt: 1, durationMs: 1 };
    await journal.append(step, { expectedSeq: 0 });
    const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await terminate(rows[0]!.pid);
    const next = await journal.append(step, { expectedSeq: 1 }).then(
      () => 'ok',
      (e: unknown) => e,
    );
    if (next !== 'ok') {
      expect(next).toBeInstanceOf(StoreUnavailableError);
      expect((next as BatonError).retryable).toBe(true);
    }
    const head = await journal.head(ref);
    const seq = head.nextSeq;
    expect(seq).toBe(next === 'ok' ? 2 : 1);
    await journal.append(step, { expectedSeq: seq });
    expect((await journal.list(ref)).map((e) => e.seq)).toEqual(Array.from({ length: seq + 1 }, (_, i) => i));
  });

  it('leaves nothing of a transaction whose connection was cut, and serves the next call', async () => {
    const c = client(2);
    const db = new BatonDatabase({ client: c, schema: schema() });
    await db.migrate();
    const t = db.tables;
    const cut = await c
      .transaction(async (tx) => {
        await tx.query(`INSERT INTO ${t.sharedData} (scope_id, job_id, key, value) VALUES ('s', 'j', 'a', '1')`);
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await terminate(rows[0]!.pid);
        await tx.query(`INSERT INTO ${t.sharedData} (scope_id, job_id, key, value) VALUES ('s', 'j', 'b', '2')`);
      })
      .catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(StoreUnavailableError);
    expect((cut as StoreUnavailableError).message).toMatch(/connection/i);
    const { rows } = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t.sharedData}`);
    expect(rows[0]?.n).toBe(0);
  });

  it('fails with StoreUnavailableError when the server cannot be reached', async () => {
    const unreachable = new PgSqlClient({ connectionString: 'postgres://postgres@127.0.0.1:1/test', poolConfig: { connectionTimeoutMillis: 2_000 } });
    clients.push(unreachable);
    const error = await new PostgresJobStore({ client: unreachable, schema: schema() }).get({ scopeId: 's', jobId: 'j' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ code: 'store_unavailable', driverCode: 'ECONNREFUSED' });
  });
});

describe.skipIf(!available)('Postgres: across processes', () => {
  it('delivers events published by one process to subscribers of another, inline or by reference', async () => {
    const s = schema();
    const publisher = new PostgresEventBus({ client: client(), schema: s });
    const subscriber = new PostgresEventBus({ client: client(), schema: s });
    await subscriber.setup();
    const got: RuntimeEvent[] = [];
    const stop = subscriber.subscribe((e) => void got.push(e), { scopeId: 'scope' });
    // The LISTEN is set up in the background: publish until the first one arrives.
    await eventually(async () => {
      await publisher.publish({ type: 'model.delta', jobId: 'warmup', scopeId: 'scope', data: { model: 'm', textDelta: 'x' } });
      return got.length > 0;
    });
    const small = await publisher.publish({ type: 'model.delta', jobId: 'job', scopeId: 'scope', data: { model: 'm', textDelta: 'hi' } });
    const large = await publisher.publish({ type: 'model.delta', jobId: 'job', scopeId: 'scope', data: { model: 'm', textDelta: 'y'.repeat(10_000) } });
    const ours = () => got.filter((e) => e.jobId === 'job');
    await eventually(() => ours().length === 2);
    expect(ours()).toEqual([small, large]);
    stop();
    await publisher.close();
    await subscriber.close();
  });

  it("a stream opened while its bus is not yet listening misses nothing another process publishes meanwhile", async () => {
    const s = schema();
    const publisher = new PostgresEventBus({ client: client(), schema: s });
    await publisher.setup();
    // This process's LISTEN takes 150 ms to be in place.
    const slow = client();
    const listen = slow.listen.bind(slow);
    slow.listen = (async (...args: Parameters<typeof listen>) => {
      await new Promise((r) => setTimeout(r, 150));
      return listen(...args);
    }) as typeof slow.listen;
    const subscriber = new PostgresEventBus({ client: slow, schema: s });
    await subscriber.setup();
    const got: RuntimeEvent[] = [];
    const reading = (async () => {
      for await (const e of subscriber.stream({ jobId: 'job', scopeId: 'scope', fromSeq: 1, until: (e) => e.type === 'job.completed' })) got.push(e);
    })();
    await new Promise((r) => setTimeout(r, 40));
    await publisher.publish({ type: 'model.delta', jobId: 'job', scopeId: 'scope', data: { model: 'm', textDelta: 'hi' } });
    await publisher.publish({ type: 'job.completed', jobId: 'job', scopeId: 'scope', data: { from: 'running' } });
    await Promise.race([reading, new Promise((_, reject) => setTimeout(() => reject(new Error('the stream missed events')), 3_000))]);
    expect(got.map((e) => [e.seq, e.type])).toEqual([
      [1, 'model.delta'],
      [2, 'job.completed'],
    ]);
    await publisher.close();
    await subscriber.close();
  });

  it('a stream reads back what another process published while its listening connection was down', async () => {
    const s = schema();
    const publisher = new PostgresEventBus({ client: client(), schema: s });
    await publisher.setup();
    const subscriber = new PostgresEventBus({ client: client(), schema: s });
    await subscriber.setup();
    const got: RuntimeEvent[] = [];
    const reading = (async () => {
      for await (const e of subscriber.stream({ jobId: 'job', scopeId: 'scope', fromSeq: 1, until: (e) => e.type === 'job.completed' })) got.push(e);
    })();
    await eventually(async () => {
      if (got.length === 0) await publisher.publish({ type: 'model.delta', jobId: 'job', scopeId: 'scope', data: { model: 'm', textDelta: 'first' } });
      return got.length > 0;
    });
    const pid = listeningBackendPid(subscriber['ctx'].database.client);
    expect(pid).toBeTypeOf('number');
    await terminate(pid!);
    // Published while the listening connection is down (it reconnects after 50 ms at the least): no notification reaches it.
    const before = got.length;
    await publisher.publish({ type: 'model.delta', jobId: 'job', scopeId: 'scope', data: { model: 'm', textDelta: 'while down' } });
    await publisher.publish({ type: 'job.completed', jobId: 'job', scopeId: 'scope', data: { from: 'running' } });
    await Promise.race([reading, new Promise((_, reject) => setTimeout(() => reject(new Error('the stream missed events')), 5_000))]);
    const seqs = got.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(got.slice(before).map((e) => e.type)).toEqual(['model.delta', 'job.completed']);
    await publisher.close();
    await subscriber.close();
  });

  it('a bus registers itself while it listens: publishers notify only then, and not after it closed', async () => {
    const s = schema();
    const publisher = new PostgresEventBus({ client: client(), schema: s });
    await publisher.setup();
    const registered = async () => (await publisher['ctx'].database.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${s}".bus_listeners WHERE expires_at > now()`)).rows[0]?.n;
    expect(await registered()).toBe(0);
    const subscriber = new PostgresEventBus({ client: client(), schema: s });
    const got: RuntimeEvent[] = [];
    const stop = subscriber.subscribe((e) => void got.push(e), { scopeId: 'scope' });
    await eventually(async () => (await registered()) === 1);
    const sent = await publisher.publish({ type: 'model.delta', jobId: 'job', scopeId: 'scope', data: { model: 'm', textDelta: 'hi' } });
    await eventually(() => got.some((e) => e.id === sent.id));
    stop();
    await subscriber.close();
    expect(await registered()).toBe(0);
    await publisher.close();
  });

  it("leaves unread the events of jobs no subscriber of the process follows (a large one is not read back)", async () => {
    const s = schema();
    const publisher = new PostgresEventBus({ client: client(), schema: s });
    const reads: string[] = [];
    const watched = client();
    const query = watched.query.bind(watched);
    watched.query = ((text: string, params?: readonly unknown[], options?: never) => {
      reads.push(text);
      return query(text, params, options);
    }) as typeof watched.query;
    const subscriber = new PostgresEventBus({ client: watched, schema: s });
    await subscriber.setup();
    const got: RuntimeEvent[] = [];
    const stop = subscriber.subscribe((e) => void got.push(e), { jobId: 'followed', scopeId: 'scope' });
    await eventually(async () => {
      await publisher.publish({ type: 'model.delta', jobId: 'followed', scopeId: 'scope', data: { model: 'm', textDelta: 'x' } });
      return got.length > 0;
    });
    reads.length = 0;
    // Too large to ride in its notification: a process following the job reads it back, one that does not leaves it.
    await publisher.publish({ type: 'model.delta', jobId: 'other', scopeId: 'scope', data: { model: 'm', textDelta: 'y'.repeat(10_000) } });
    await publisher.publish({ type: 'model.delta', jobId: 'followed', scopeId: 'other-scope', data: { model: 'm', textDelta: 'y'.repeat(10_000) } });
    const large = await publisher.publish({ type: 'model.delta', jobId: 'followed', scopeId: 'scope', data: { model: 'm', textDelta: 'z'.repeat(10_000) } });
    await eventually(() => got.some((e) => e.id === large.id));
    expect(got.map((e) => `${e.scopeId}/${e.jobId}`)).toEqual(got.map(() => 'scope/followed'));
    // One read back: the followed job's event.
    expect(reads.filter((text) => text.includes('"events"'))).toHaveLength(1);
    stop();
    await publisher.close();
    await subscriber.close();
  });

  it('runs one statement at a time on the listening connection when channels are subscribed at once', async () => {
    let inFlight = 0;
    let most = 0;
    class TrackingClient extends pg.Client {
      override query(...args: unknown[]): never {
        inFlight++;
        most = Math.max(most, inFlight);
        const done = (super.query as (...a: unknown[]) => Promise<unknown>)(...args);
        return done.finally(() => inFlight--) as never;
      }
    }
    const listener = new PgNotificationListener(() => new TrackingClient({ connectionString: DATABASE_URL }));
    const got: string[] = [];
    const channels = ['c_one', 'c_two', 'c_three', 'c_four', 'c_one'];
    const stops = await Promise.all(channels.map((channel, i) => listener.listen(channel, (payload) => void got.push(`${i}:${payload}`))));
    expect(most).toBe(1);
    const sender = client(1);
    for (const channel of new Set(channels)) await sender.query('SELECT pg_notify($1, $2)', [channel, channel]);
    await eventually(() => got.length === 5);
    expect(got.sort()).toEqual(['0:c_one', '1:c_two', '2:c_three', '3:c_four', '4:c_one']);
    await Promise.all(stops.map((stop) => stop()));
    expect(most).toBe(1);
    await listener.close();
  });

  it('wakes a subscriber of another process, and again after its listening connection was terminated', async () => {
    const s = schema();
    const a = new PostgresSignalChannel({ client: client(), schema: s });
    const b = new PostgresSignalChannel({ client: client(), schema: s });
    const got: Signal[] = [];
    const unsubscribe = await b.subscribe('baton:action.resolved:scope:act-1', (signal) => void got.push(signal));
    const signal = (subjectId: string): Signal => ({ schemaVersion: 1, kind: 'action.resolved', scopeId: 'scope', subjectId, at: Date.now() });
    await a.publish('baton:action.resolved:scope:act-1', signal('first'));
    await eventually(() => got.length === 1);
    const admin = client(1);
    const { rows } = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`);
    for (const row of rows) await terminate(row.pid);
    await eventually(async () => {
      await a.publish('baton:action.resolved:scope:act-1', signal('after'));
      return got.some((x) => x.subjectId === 'after');
    });
    await unsubscribe();
  });

  it('resumes on another host (fresh pool, fresh kernel) a job paused for approval', async () => {
    const s = schema();
    const workflow: Workflow = async (ctx) => {
      const plan = await ctx.step('plan', () => 'ship');
      const approval = await ctx.waitForAction({ type: 'approval', title: 'Ship it?' });
      return ctx.step('execute', () => `${plan}:${JSON.stringify(approval.resolution)}`);
    };
    let token = '';
    const hostA = await createPostgresStores({ connectionString: DATABASE_URL, schema: s });
    const kernelA = RuntimeKernel.create({ stores: hostA, workflows: { w: workflow }, onActionRequired: (info) => (token = info.resumeToken) });
    const paused = await kernelA.execute({ scopeId: 'scope', principalId: 'user', workflow: 'w', input: null });
    await paused.settled();
    await hostA.close();
    const hostB = await createPostgresStores({ connectionString: DATABASE_URL, schema: s });
    const kernelB = RuntimeKernel.create({ stores: hostB, workflows: { w: workflow } });
    const { handle } = await kernelB.resume(token, { approved: true }, { scopeId: 'scope', principalId: 'approver' });
    expect((await handle!.result()).output).toBe('ship:{"approved":true}');
    expect((await hostB.jobs.get({ scopeId: 'scope', jobId: paused.jobId }))?.status).toBe('completed');
    await hostB.close();
  });

  it('keeps a scope within its limit when workers of several processes claim at once', async () => {
    const s = schema();
    const queues = [client(), client(), client(), client()].map((c) => new PostgresJobQueue({ client: c, schema: s }));
    for (let i = 0; i < 10; i++) await queues[0]!.enqueue({ scopeId: 'busy', jobId: `b${i}` });
    for (let i = 0; i < 3; i++) await queues[0]!.enqueue({ scopeId: 'quiet', jobId: `q${i}`, priority: 'low' });
    const results = await Promise.all(queues.map((q, i) => q.claim({ workerId: `w${i}`, leaseMs: 60_000, limit: 5, perScopeLimit: 2 })));
    const claimed = results.flatMap((r) => r.jobs);
    expect(claimed.filter((j) => j.scopeId === 'busy')).toHaveLength(2);
    expect(claimed.filter((j) => j.scopeId === 'quiet')).toHaveLength(2);
    expect(new Set(claimed.map((j) => j.jobId)).size).toBe(claimed.length);
  });

  it('lets concurrent sweepers prune disjoint jobs, each once', async () => {
    const s = schema();
    const stores = await Promise.all([0, 1, 2].map(() => createPostgresStores({ connectionString: DATABASE_URL, schema: s, now: () => 2_000_000_000_000 })));
    const [first] = stores;
    for (let i = 0; i < 30; i++) {
      const job = makeTestJobRecord({ scopeId: 'scope', id: `done-${i}`, status: 'completed', updatedAt: 1_000 });
      await first!.jobs.create(job);
      await first!.journal.append({ scopeId: 'scope', jobId: job.id, kind: 'custom', name: 's', status: 'completed', startedAt: 1, durationMs: 1 }, { expectedSeq: 0 });
    }
    const results = await Promise.all(stores.map((st) => st.pruneFinished({ olderThanMs: 1_000, batchSize: 4 })));
    expect(results.reduce((n, r) => n + r.jobs, 0)).toBe(30);
    expect(results.reduce((n, r) => n + r.rows, 0)).toBe(30);
    for (const st of stores) await st.close();
  });
});
