import { afterAll, describe, expect, it } from 'vitest';
import type { RuntimeEvent, RuntimeEventInput } from '@baton/agent-runtime';
import { PostgresEventBus } from './events/postgres-event-bus.js';
import { physicalChannel } from './notifications/channel-names.js';
import { PgSqlClient } from './sql/pg-client.js';
import { PostgresJournalStore } from './stores/postgres-journal-store.js';
import { postgresBackend } from './test-helpers/backends.js';
import { DATABASE_URL, dropSchema, freshSchemaName, postgresAvailable } from './test-helpers/environment.js';
import { describeOneStatementWrites } from './test-helpers/one-statement-suite.js';

// A step's writes with their events, one statement each, on the Postgres server of DATABASE_URL;
// and their notifications reaching another process.
const available = await postgresAvailable();
if (available) describeOneStatementWrites(postgresBackend());

describe.skipIf(!available)('one-statement writes: across processes', () => {
  const clients: PgSqlClient[] = [];
  const schema = freshSchemaName();
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await dropSchema(schema);
  });
  /** A client with its own pool: another process, as far as the server can tell. */
  const client = (): PgSqlClient => {
    const c = new PgSqlClient({ connectionString: DATABASE_URL, poolConfig: { max: 2 } });
    clients.push(c);
    return c;
  };

  it("delivers appendWithEvents' events to another process's bus through NOTIFY, inline or by reference", async () => {
    const here = client();
    const bus = new PostgresEventBus({ client: here, schema, crossProcess: true });
    const journal = new PostgresJournalStore({ client: here, schema });
    const remote = new PostgresEventBus({ client: client(), schema, crossProcess: true });
    await remote.setup();
    const got: RuntimeEvent[] = [];
    const stop = remote.subscribe((e) => void got.push(e), { scopeId: 'scope' });
    const delta = (jobId: string, text: string): RuntimeEventInput => ({ type: 'model.delta', scopeId: 'scope', jobId, data: { model: 'm', textDelta: text } }) as RuntimeEventInput;
    // The LISTEN is set up in the background: publish until the first one arrives.
    const until = Date.now() + 5_000;
    while (got.length === 0) {
      if (Date.now() > until) throw new Error('the remote bus never started listening');
      await bus.publish(delta('warmup', 'x'));
      await new Promise((r) => setTimeout(r, 20));
    }
    const step = { scopeId: 'scope', jobId: 'job', kind: 'custom' as const, name: 's', status: 'completed' as const, startedAt: 1, durationMs: 1 };
    const { events } = await journal.appendWithEvents(step, { expectedSeq: 0 }, { bus, events: [delta('job', 'a'), delta('job', 'y'.repeat(10_000)), delta('job', 'c')] });
    expect(bus.sharesTransactionsWith(journal)).toBe(true);
    const ours = (): RuntimeEvent[] => got.filter((e) => e.jobId === 'job');
    const deadline = Date.now() + 5_000;
    while (ours().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(ours()).toEqual(events);
    // A refused append notifies nothing.
    await expect(journal.appendWithEvents(step, { expectedSeq: 0 }, { bus, events: [delta('job', 'refused')] })).rejects.toMatchObject({ code: 'journal_conflict' });
    await bus.publish(delta('job', 'after'));
    while (ours().length < 4 && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(ours().map((e) => [e.seq, (e.data as { textDelta: string }).textDelta.slice(0, 5)])).toEqual([
      [1, 'a'],
      [2, 'yyyyy'],
      [3, 'c'],
      [4, 'after'],
    ]);
    stop();
    await remote.close();
    await bus.close();
  });

  it('sends one notification per statement, with the batch inline when it fits and by reference when not; a one-event notice of an earlier version is still delivered', async () => {
    const here = client();
    const bus = new PostgresEventBus({ client: here, schema, crossProcess: true });
    const journal = new PostgresJournalStore({ client: here, schema });
    await bus.setup();
    const payloads: Array<{ q: number; n: number; j: string; r?: unknown[] }> = [];
    const raw = client();
    const channel = physicalChannel(schema, 'baton:events');
    const unlisten = await raw.listen(channel, (payload) => void payloads.push(JSON.parse(payload) as never));
    const delta = (jobId: string, text: string): RuntimeEventInput => ({ type: 'model.delta', scopeId: 'scope', jobId, data: { model: 'm', textDelta: text } }) as RuntimeEventInput;
    const step = { scopeId: 'scope', jobId: 'batch', kind: 'custom' as const, name: 's', status: 'completed' as const, startedAt: 1, durationMs: 1 };
    // While no bus is registered as listening, publishers send no notification at all.
    await bus.publish(delta('unheard', 'x'));
    await new Promise((r) => setTimeout(r, 100));
    expect(payloads).toEqual([]);
    // A listener registered as a bus does (a bus registers itself once it listens).
    await raw.query(`INSERT INTO "${schema}".bus_listeners (channel, listener_id, expires_at) VALUES ($1, 'raw', now() + interval '1 hour')`, [channel]);
    const until = Date.now() + 5_000;
    await journal.appendWithEvents(step, { expectedSeq: 0 }, { bus, events: [delta('batch', 'a'), delta('batch', 'b'), delta('batch', 'c')] });
    const big = await journal.appendWithEvents(step, { expectedSeq: 1 }, { bus, events: [delta('batch', 'd'), delta('batch', 'z'.repeat(9_000))] });
    while (payloads.filter((p) => p.j === 'batch').length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    const ours = payloads.filter((p) => p.j === 'batch');
    expect(ours.map((p) => [p.q, p.n, Array.isArray(p.r) ? p.r.length : 'by reference'])).toEqual([
      [1, 3, 3],
      [4, 2, 'by reference'],
    ]);
    expect(big.events.map((e) => e.seq)).toEqual([4, 5]);
    await unlisten();

    // A notice naming one event without a count (an earlier version's format) reaches subscribers too.
    const remote = new PostgresEventBus({ client: client(), schema, crossProcess: true });
    const got: RuntimeEvent[] = [];
    const stop = remote.subscribe((e) => void got.push(e), { scopeId: 'scope' });
    while (got.length === 0) {
      if (Date.now() > until + 5_000) throw new Error('the remote bus never started listening');
      await bus.publish(delta('warmup-legacy', 'x'));
      await new Promise((r) => setTimeout(r, 20));
    }
    const stored = await bus.publish(delta('legacy', 'old'));
    got.length = 0;
    const record = { ...stored };
    await raw.query('SELECT pg_notify($1, $2)', [physicalChannel(schema, 'baton:events'), JSON.stringify({ o: 'another-bus', s: 'scope', j: 'legacy', q: stored.seq, r: record })]);
    await raw.query('SELECT pg_notify($1, $2)', [physicalChannel(schema, 'baton:events'), JSON.stringify({ o: 'another-bus', s: 'scope', j: 'legacy', q: stored.seq })]);
    const deadline = Date.now() + 5_000;
    while (got.filter((e) => e.jobId === 'legacy').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(got.filter((e) => e.jobId === 'legacy')).toEqual([stored, stored]);
    stop();
    await remote.close();
    await bus.close();
  });
});
