import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptRecordError, RuntimeKernel, type JobRecord, type Workflow } from '@baton/agent-runtime';
import { makeTestJobRecord, sampleActionRecord } from '@baton/agent-runtime/testing';
import * as postgres from './index.js';
import { createEmbeddedStores, type BatonStores } from './create-stores.js';
import { BatonDatabase } from './database.js';
import type { PgliteSqlClient } from './sql/pglite-client.js';
import { PostgresJobStore } from './stores/postgres-job-store.js';
import { PostgresJournalStore } from './stores/postgres-journal-store.js';

// One directory, opened twice (write, close, reopen): the second instance serves every test.
let dir: string;
let stores: BatonStores;
const scopeId = 'scope-embedded';
const paused: JobRecord = makeTestJobRecord({
  scopeId,
  id: 'job-paused',
  status: 'waiting_for_action',
  stateHistory: [
    { status: 'queued', at: 1_700_000_000_000 },
    { status: 'running', at: 1_700_000_000_001 },
    { status: 'waiting_for_action', at: 1_700_000_000_002 },
  ],
});
const action = sampleActionRecord({ scopeId, jobId: paused.id });
const approvalWorkflow: Workflow = async (ctx) => {
  const plan = await ctx.step('plan', () => 'refund 12');
  const approval = await ctx.waitForAction({ type: 'approval', title: 'Refund 12?' });
  return ctx.step('execute', () => ({ plan, resolution: approval.resolution }));
};
let resumeToken = '';
let kernelJobId = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-embedded-'));
  const first = await createEmbeddedStores({ dir });
  await first.jobs.create(paused);
  await first.journal.append(
    { scopeId, jobId: paused.id, kind: 'model', name: 'm', status: 'completed', output: { text: 'draft' }, startedAt: 1_700_000_000_001, durationMs: 3 },
    { expectedSeq: 0 },
  );
  await first.journal.setSharedData({ scopeId, jobId: paused.id, values: { plan: ['a', 'b'] } });
  await first.actions.create(action);
  await first.events.publish({ type: 'job.waiting', jobId: paused.id, scopeId, data: { from: 'running', actionId: action.id } });
  // A real kernel run that pauses for an approval in this "process"…
  const kernel = RuntimeKernel.create({ stores: first, workflows: { approve: approvalWorkflow }, onActionRequired: (info) => (resumeToken = info.resumeToken) });
  const handle = await kernel.execute({ scopeId, principalId: 'user-1', workflow: 'approve', input: { amount: 12 } });
  await handle.settled();
  kernelJobId = handle.jobId;
  await first.close();
  stores = await createEmbeddedStores({ dir });
}, 120_000);

afterAll(async () => {
  await stores?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('createEmbeddedStores', () => {
  it('reads a paused job written by an earlier instance over the same directory', async () => {
    expect(await stores.jobs.get({ scopeId, jobId: paused.id })).toEqual(paused);
    const journal = await stores.journal.list({ scopeId, jobId: paused.id });
    expect(journal.map((e) => [e.seq, e.key, e.output])).toEqual([[0, `${paused.id}:0`, { text: 'draft' }]]);
    expect(await stores.journal.head({ scopeId, jobId: paused.id })).toEqual({ nextSeq: 1, firstSeq: 0, leaseEpoch: 0 });
    expect(await stores.journal.getSharedData({ scopeId, jobId: paused.id })).toEqual({ plan: ['a', 'b'] });
    expect(await stores.actions.getByTokenHash({ scopeId, tokenHash: action.tokenHash })).toEqual(action);
    expect((await stores.events.replay({ scopeId, jobId: paused.id })).map((e) => [e.seq, e.type])).toEqual([[1, 'job.waiting']]);
  });

  it('resumes, on a fresh kernel over the reopened directory, a job a kernel paused before the close', async () => {
    expect(resumeToken).not.toBe('');
    expect((await stores.jobs.get({ scopeId, jobId: kernelJobId }))?.status).toBe('waiting_for_action');
    const kernel = RuntimeKernel.create({ stores, workflows: { approve: approvalWorkflow } });
    const { handle } = await kernel.resume(resumeToken, { approved: true }, { scopeId, principalId: 'approver' });
    expect((await handle!.result()).output).toEqual({ plan: 'refund 12', resolution: { approved: true } });
    expect((await stores.jobs.get({ scopeId, jobId: kernelJobId }))?.status).toBe('completed');
    expect((await stores.journal.list({ scopeId, jobId: kernelJobId })).map((e) => e.kind)).toEqual(['custom', 'action', 'custom']);
  });

  it('continues the journal and the event seqs where the earlier instance left them', async () => {
    const next = await stores.journal.append(
      { scopeId, jobId: paused.id, kind: 'action', name: 'approval', status: 'completed', output: { approved: true }, startedAt: 1_700_000_000_010, durationMs: 1 },
      { expectedSeq: 1 },
    );
    expect(next.key).toBe(`${paused.id}:1`);
    const event = await stores.events.publish({ type: 'job.resumed', jobId: paused.id, scopeId, data: { from: 'waiting_for_action' } });
    expect(event.seq).toBe(2);
  });

  it('migrates once: migrate() again applies nothing', async () => {
    expect(await stores.migrate()).toEqual({ applied: [], version: 3 });
    const other = new BatonDatabase({ client: stores.database.client, schema: 'baton' });
    expect((await other.migrate()).applied).toEqual([]);
  });

  it('keeps two schemas on one database apart', async () => {
    const a = new BatonDatabase({ client: stores.database.client, schema: 'app_a' });
    const b = new BatonDatabase({ client: stores.database.client, schema: 'app "b"' });
    expect((await Promise.all([a.migrate(), b.migrate()])).map((r) => r.applied)).toEqual([[1, 2, 3], [1, 2, 3]]);
    const jobsA = new PostgresJobStore({ database: a });
    const jobsB = new PostgresJobStore({ database: b });
    const job = makeTestJobRecord({ scopeId, id: 'same-id', input: 'a' });
    await jobsA.create(job);
    expect(await jobsB.get({ scopeId, jobId: 'same-id' })).toBeUndefined();
    await jobsB.create({ ...job, input: 'b' });
    expect((await jobsA.get({ scopeId, jobId: 'same-id' }))?.input).toBe('a');
    expect((await jobsB.get({ scopeId, jobId: 'same-id' }))?.input).toBe('b');
  });

  it('names the job when a journal row planted with raw SQL does not parse or has an unknown schema version', async () => {
    const journal = new PostgresJournalStore({ database: stores.database });
    const ref = { scopeId, jobId: 'job-corrupt' };
    const step = { ...ref, kind: 'tool' as const, name: 't', status: 'completed' as const, startedAt: 1, durationMs: 1 };
    await journal.append(step, { expectedSeq: 0 });
    await journal.append(step, { expectedSeq: 1 });
    const t = stores.database.tables;
    await stores.database.client.query(`UPDATE ${t.journalEntries} SET record = '{"schemaVersion": 1, "seq": "one"}'::jsonb WHERE job_id = $1 AND seq = 0`, [ref.jobId]);
    const corrupt = await journal.list(ref).catch((e: unknown) => e);
    expect(corrupt).toBeInstanceOf(CorruptRecordError);
    expect(corrupt).toMatchObject({ code: 'corrupt_record', recordType: 'journal_entry', jobId: ref.jobId, recordId: `${ref.jobId}:0` });
    expect((corrupt as Error).message).toContain(ref.jobId);
    await stores.database.client.query(`UPDATE ${t.journalEntries} SET record = jsonb_set(record, '{schemaVersion}', '2') WHERE job_id = $1 AND seq = 1`, [ref.jobId]);
    const unknown = await journal.list({ ...ref, fromSeq: 1 }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'corrupt_record', jobId: ref.jobId, schemaVersion: 2 });
    expect((unknown as Error).message).toMatch(/unknown schema version 2/);
  });
});

describe('pruneFinished', () => {
  it("removes finished jobs' journals, events and queue rows past the TTL, keeping the result", async () => {
    // A schema of its own on the same instance: the sweep sees every job of a schema.
    const pglite = (stores.database.client as PgliteSqlClient).db;
    const own = await createEmbeddedStores({ pglite, schema: 'prune_test' });
    const t0 = 1_800_000_000_000;
    const scope = 'scope-prune';
    const done = makeTestJobRecord({ scopeId: scope, id: 'done-old', status: 'completed', result: { answer: 42 }, updatedAt: t0 });
    const gone = makeTestJobRecord({ scopeId: scope, id: 'failed-old', status: 'failed', updatedAt: t0 });
    const recent = makeTestJobRecord({ scopeId: scope, id: 'done-recent', status: 'completed', updatedAt: t0 + 50_000 });
    const waiting = makeTestJobRecord({ scopeId: scope, id: 'waiting-old', status: 'waiting_for_action', updatedAt: t0 });
    for (const job of [done, gone, recent, waiting]) {
      await own.jobs.create(job);
      const ref = { scopeId: scope, jobId: job.id };
      await own.journal.append({ ...ref, kind: 'custom', name: 's', status: 'completed', startedAt: t0, durationMs: 1 }, { expectedSeq: 0 });
      await own.journal.appendSharedLog({ ...ref, entries: ['x'] });
      await own.events.publish({ type: 'checkpoint.saved', ...ref, data: { seq: 0, key: `${job.id}:0` } });
    }
    const now = () => t0 + 60_000;
    const first = await own.pruneFinished({ olderThanMs: 30_000, now });
    expect(first.jobs).toBe(2);
    expect(first.rows).toBe(6);
    const kept = await own.jobs.get({ scopeId: scope, jobId: done.id });
    expect(kept?.result).toEqual({ answer: 42 });
    expect(await own.journal.list({ scopeId: scope, jobId: done.id })).toEqual([]);
    expect(await own.journal.listSharedLog({ scopeId: scope, jobId: done.id })).toEqual([]);
    expect(await own.events.replay({ scopeId: scope, jobId: done.id })).toEqual([]);
    for (const id of [recent.id, waiting.id]) expect(await own.journal.list({ scopeId: scope, jobId: id })).toHaveLength(1);
    expect(await own.pruneFinished({ olderThanMs: 30_000, now })).toEqual({ jobs: 0, rows: 0, orphans: 0 });
    const late = await own.pruneFinished({ olderThanMs: 0, keepResult: false, now });
    expect(late.jobs).toBe(3);
    for (const id of [done.id, gone.id, recent.id]) expect(await own.jobs.get({ scopeId: scope, jobId: id })).toBeUndefined();
    expect(await own.jobs.get({ scopeId: scope, jobId: waiting.id })).toBeDefined();
    await own.close();
  });
});

describe('README', () => {
  it('runs the smallest example as written (on this file\'s PGlite instance instead of ./.baton-data)', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const body = (block ?? '')
      .replace(/^import \{ ([^}]+) \} from '@baton\/postgres';$/m, 'const { $1 } = postgres;')
      .replace("{ dir: './.baton-data' }", '{ pglite }')
      .replaceAll('console.log(', 'log(');
    const logged: unknown[] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<void>;
    const pglite = (stores.database.client as PgliteSqlClient).db;
    await new AsyncFunction('postgres', 'pglite', 'log', body)(postgres, pglite, (value: unknown) => logged.push(value));
    expect(logged).toEqual([['job-1:0']]);
  });
});

describe('values Postgres cannot store', () => {
  it('refuses the NUL character with InvalidArgumentError and writes nothing', async () => {
    const job = makeTestJobRecord({ scopeId, id: 'job-nul', input: { text: 'a\u0000b' } });
    await expect(stores.jobs.create(job)).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(await stores.jobs.get({ scopeId, jobId: 'job-nul' })).toBeUndefined();
    await expect(stores.jobs.create(makeTestJobRecord({ scopeId, id: 'job-\u0000' }))).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('ordering past nine', () => {
  it('lists journal entries and shared-log records in numeric order', async () => {
    const ref = { scopeId, jobId: 'job-many' };
    for (let seq = 0; seq < 12; seq++) {
      await stores.journal.append({ ...ref, kind: 'custom', name: `s${seq}`, status: 'completed', startedAt: 1, durationMs: 1 }, { expectedSeq: seq });
    }
    await stores.journal.appendSharedLog({ ...ref, entries: Array.from({ length: 12 }, (_, i) => i) });
    expect((await stores.journal.list(ref)).map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect((await stores.journal.listSharedLog({ ...ref, fromIndex: 2 })).map((r) => r.index)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
  });
});
