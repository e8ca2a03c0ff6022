import { describe } from 'vitest';
import { postgresBackend } from './test-helpers/backends.js';
import { postgresAvailable } from './test-helpers/environment.js';
import { describeResumeWrites } from './test-helpers/resume-write-suite.js';

// A resume's read and write, one statement each, on the Postgres server of DATABASE_URL, with
// concurrent writers on real connections.
if (await postgresAvailable()) describeResumeWrites(postgresBackend());
else describe.skip('resume writes: postgres (Postgres unreachable)', () => {});
