import { describe } from 'vitest';
import { postgresBackend } from './test-helpers/backends.js';
import { postgresAvailable } from './test-helpers/environment.js';
import { describeOrphanScanBound } from './test-helpers/retention-orphan-scan-suite.js';
import { describeRetentionOrphans } from './test-helpers/retention-suite.js';

// pruneFinished's orphan pass on the Postgres server of DATABASE_URL.
if (await postgresAvailable()) {
  describeRetentionOrphans(postgresBackend());
  describeOrphanScanBound(postgresBackend());
} else describe.skip('pruneFinished orphans: postgres (Postgres unreachable)', () => {});
