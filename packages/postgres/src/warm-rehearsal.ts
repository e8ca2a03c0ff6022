import { setImmediate as tick } from 'node:timers/promises';
import { RuntimeKernel, type JobStatus, type Workflow } from '@baton/agent-runtime';
import { BatonDatabase } from './database.js';
import { PostgresEventBus } from './events/postgres-event-bus.js';
import type { SqlClient } from './sql/sql-client.js';
import { PostgresActionStore } from './stores/postgres-action-store.js';
import { PostgresJobStore } from './stores/postgres-job-store.js';
import { PostgresJournalStore } from './stores/postgres-journal-store.js';
import { PostgresSignalChannel } from './stores/postgres-signal-channel.js';

/**
 * Postgres plans a prepared statement afresh on each of its first five runs on a connection
 * (custom plans) before it may keep a generic plan: after six rehearsals a request's statements
 * are planned for good there.
 */
const REHEARSALS = 6;

/** The scope of the rehearsed job (its rows are rolled back; nothing outside the transaction sees them). */
const SCOPE = '__baton_warm_up__';

const rehearsal: Workflow = async (ctx) => {
  await ctx.step('plan', () => 'plan');
  await ctx.waitForAction({ type: 'approval', title: 'warm-up' });
  return ctx.step('done', () => 'done');
};

/** `REHEARSALS` rehearsals of a job's life on `connection` (see `rehearseJob`), one after another. */
export async function rehearseJobs(connection: SqlClient, schema: string): Promise<void> {
  for (let i = 0; i < REHEARSALS; i++) await rehearseJob(connection, schema);
}

/**
 * A job's life on `connection` (which the caller rolls back): created started, a step, a pause
 * for a person, the answer with the resume, a step and the completion — the statements a
 * request makes, with their events, so that the connection has them prepared and the server has
 * planned them. Resolves when the job completed or after `timeoutMs`.
 */
export async function rehearseJob(connection: SqlClient, schema: string, timeoutMs = 2_000): Promise<void> {
  const database = new BatonDatabase({ client: connection, schema, autoMigrate: false });
  const jobs = new PostgresJobStore({ database });
  const events = new PostgresEventBus({ database });
  const stores = { jobs, journal: new PostgresJournalStore({ database }), events, actions: new PostgresActionStore({ database }), signals: new PostgresSignalChannel({ database }) };
  let token: string | undefined;
  const kernel = RuntimeKernel.create({ stores, workflows: { rehearsal }, hostId: 'warm-up', onActionRequired: (info) => (token = info.resumeToken) });
  const deadline = Date.now() + timeoutMs;
  const reach = async (jobId: string, status: JobStatus): Promise<boolean> => {
    while (Date.now() < deadline) {
      if ((await jobs.get({ scopeId: SCOPE, jobId }))?.status === status) return true;
      await tick();
    }
    return false;
  };
  try {
    const handle = await kernel.execute({ scopeId: SCOPE, principalId: 'warm-up', workflow: 'rehearsal', input: null });
    if (!(await reach(handle.jobId, 'waiting_for_action')) || token === undefined) return;
    await kernel.resume(token, { approved: true }, { scopeId: SCOPE, principalId: 'warm-up' });
    await reach(handle.jobId, 'completed');
  } finally {
    await kernel.close().catch(() => undefined);
    await events.close().catch(() => undefined);
  }
}
