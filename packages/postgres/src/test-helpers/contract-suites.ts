import { afterAll, describe } from 'vitest';
import { describeActionStoreContract } from '@baton/agent-runtime/testing';
import type { BatonDatabase } from '../database.js';
import { PostgresActionStore } from '../stores/postgres-action-store.js';
import type { TestBackend } from './backends.js';

/** A contract init for one suite: a fresh schema on first use, emptied after each test. */
function suiteInit<S, X extends object>(backend: TestBackend, build: (database: BatonDatabase) => S, extra: (database: BatonDatabase) => X) {
  let database: Promise<BatonDatabase> | undefined;
  return async () => {
    const db = await (database ??= backend.freshDatabase());
    return { store: build(db), cleanup: () => backend.truncate(db), ...extra(db) };
  };
}

/** Registers every port's contract suite exported by `@baton/agent-runtime/testing` on `backend`. */
export function describeAllContracts(backend: TestBackend): void {
  describe(backend.name, () => {
    afterAll(() => backend.close());
    const name = backend.name;

    describeActionStoreContract(
      suiteInit(
        backend,
        (database) => new PostgresActionStore({ database }),
        (database) => ({
          corrupt: async ({ actionId }: { actionId: string }, mode: 'malformed' | 'unknown_version') => {
            const raw = mode === 'malformed' ? { schemaVersion: 1, id: actionId, status: 'maybe' } : { schemaVersion: 99, id: actionId };
            await database.client.query(`UPDATE ${database.tables.actions} SET record = $2::jsonb WHERE id = $1`, [actionId, JSON.stringify(raw)]);
          },
        }),
      ),
      { name },
    );
  });
}
