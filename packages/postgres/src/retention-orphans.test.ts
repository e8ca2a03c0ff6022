import { pgliteBackend } from './test-helpers/backends.js';
import { describeRetentionOrphans } from './test-helpers/retention-suite.js';

// pruneFinished's orphan pass on embedded PGlite (in memory).
describeRetentionOrphans(pgliteBackend());
