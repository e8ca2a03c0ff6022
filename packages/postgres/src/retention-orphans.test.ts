import { pgliteBackend } from './test-helpers/backends.js';
import { describeOrphanScanBound } from './test-helpers/retention-orphan-scan-suite.js';
import { describeRetentionOrphans } from './test-helpers/retention-suite.js';

// pruneFinished's orphan pass on embedded PGlite (in memory).
describeRetentionOrphans(pgliteBackend());
describeOrphanScanBound(pgliteBackend());
