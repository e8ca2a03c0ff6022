import { afterAll, beforeAll, describe } from 'vitest';
import { describeActionStoreContract, describeEventBusContract, describeJobQueueContract, describeJobStoreContract, describeJournalStoreContract, describeLedgerWriterContract, describeSignalChannelContract } from '@baton/agent-runtime/testing';
import type { BatonDatabase } from '../database.js';
import { PostgresEventBus } from '../events/postgres-event-bus.js';
import { PostgresJobQueue } from '../queue/postgres-job-queue.js';
import { PostgresActionStore } from '../stores/postgres-action-store.js';
import { PostgresJobStore } from '../stores/postgres-job-store.js';
import { PostgresJournalStore } from '../stores/postgres-journal-store.js';
import { PostgresLedgerWriter } from '../stores/postgres-ledger-writer.js';
import { PostgresSignalChannel } from '../stores/postgres-signal-channel.js';
import type { TestBackend } from './backends.js';

/**
 * A contract init for one suite: a fresh schema on first use, shared by the suite's tests (they
 * use random ids). The queue suite empties its table after each test instead: a claim sees every job.
 */
function suiteInit<S, X extends object>(backend: TestBackend, build: (database: BatonDatabase) => S, extra: (database: BatonDatabase) => X) {
  let database: Promise<BatonDatabase> | undefined;
  return async () => {
    const db = await (database ??= backend.freshDatabase());
    return { store: build(db), ...extra(db) };
  };
}

/**
 * A bus on the store's database, so that the stores' `…WithEvents` take their one-statement path
 * (the bus shares transactions with them); closed after each test.
 */
function sameDatabaseBus(database: BatonDatabase): { bus: PostgresEventBus; cleanup: () => Promise<void> } {
  const bus = new PostgresEventBus({ database });
  return { bus, cleanup: () => bus.close() };
}

/** Registers every port's contract suite exported by `@baton/agent-runtime/testing` on `backend`. */
export function describeAllContracts(backend: TestBackend): void {
  describe(backend.name, () => {
    // Open the connection (start PGlite) once, before the first suite.
    beforeAll(async () => {
      await backend.client();
    });
    afterAll(() => backend.close());
    const name = backend.name;

    describeJobStoreContract(
      suiteInit(
        backend,
        (database) => new PostgresJobStore({ database }),
        (database) => ({
          ...sameDatabaseBus(database),
          corrupt: async ({ scopeId, jobId, raw }: { scopeId: string; jobId: string; raw: unknown }) => {
            await database.client.query(`UPDATE ${database.tables.jobs} SET record = $3::jsonb WHERE scope_id = $1 AND id = $2`, [scopeId, jobId, JSON.stringify(raw)]);
          },
        }),
      ),
      { name: `JobStore contract: ${name}` },
    );

    describeJournalStoreContract(
      suiteInit(
        backend,
        (database) => new PostgresJournalStore({ database }),
        (database) => ({
          ...sameDatabaseBus(database),
          corrupt: async ({ scopeId, jobId, seq, raw }: { scopeId: string; jobId: string; seq: number; raw: unknown }) => {
            await database.client.query(`UPDATE ${database.tables.journalEntries} SET record = $4::jsonb WHERE scope_id = $1 AND job_id = $2 AND seq = $3`, [
              scopeId,
              jobId,
              seq,
              JSON.stringify(raw),
            ]);
          },
        }),
      ),
      { name: `JournalStore contract: ${name}` },
    );

    describeEventBusContract(
      async () => {
        const h = await suiteInit(
          backend,
          (database) => new PostgresEventBus({ database }),
          (database) => ({
            corrupt: async ({ scopeId, jobId, seq, raw }: { scopeId: string; jobId: string; seq: number; raw: unknown }) => {
              await database.client.query(`UPDATE ${database.tables.events} SET record = $4::jsonb WHERE scope_id = $1 AND job_id = $2 AND seq = $3`, [
                scopeId,
                jobId,
                seq,
                JSON.stringify(raw),
              ]);
            },
          }),
        )();
        return { ...h, bus: h.store, cleanup: () => h.store.close() };
      },
      { name: `EventBus contract: ${name}` },
    );

    let queueDatabase: Promise<BatonDatabase> | undefined;
    describeJobQueueContract(
      async ({ now, maxClaims }) => {
        const database = await (queueDatabase ??= backend.freshDatabase());
        return { queue: new PostgresJobQueue({ database, now, maxClaims }), cleanup: () => backend.truncate(database, (t) => [t.queue]) };
      },
      { name: `JobQueue contract: ${name}` },
    );

    describeActionStoreContract(
      suiteInit(
        backend,
        (database) => new PostgresActionStore({ database }),
        (database) => ({
          // The pause in one statement: actions with the job's update and its events.
          jobs: { store: new PostgresJobStore({ database }), bus: new PostgresEventBus({ database }), atomic: true },
          corrupt: async ({ actionId }: { actionId: string }, mode: 'malformed' | 'unknown_version') => {
            const raw = mode === 'malformed' ? { schemaVersion: 1, id: actionId, status: 'maybe' } : { schemaVersion: 99, id: actionId };
            await database.client.query(`UPDATE ${database.tables.actions} SET record = $2::jsonb WHERE id = $1`, [actionId, JSON.stringify(raw)]);
          },
        }),
      ),
      { name },
    );

    describeLedgerWriterContract(
      suiteInit(
        backend,
        (database) => new PostgresLedgerWriter({ database }),
        (database) => ({
          corrupt: async ({ eventId }: { eventId: string }, mode: 'malformed' | 'unknown_version') => {
            const raw = mode === 'malformed' ? { schemaVersion: 1, id: eventId, kind: 'bribe' } : { schemaVersion: 7 };
            await database.client.query(`UPDATE ${database.tables.ledgerEvents} SET record = $2::jsonb WHERE id = $1`, [eventId, JSON.stringify(raw)]);
          },
        }),
      ),
      { name },
    );

    describeSignalChannelContract(
      suiteInit(backend, (database) => new PostgresSignalChannel({ database }), () => ({})),
      { name },
    );
  });
}
