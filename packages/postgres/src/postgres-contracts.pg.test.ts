import { describe } from 'vitest';
import { postgresBackend } from './test-helpers/backends.js';
import { describeAllContracts } from './test-helpers/contract-suites.js';
import { postgresAvailable } from './test-helpers/environment.js';

// Every port's contract suite on the Postgres server of DATABASE_URL: a fresh schema per suite, dropped at the end.
if (await postgresAvailable()) describeAllContracts(postgresBackend());
else describe.skip('postgres contracts (Postgres unreachable)', () => {});
