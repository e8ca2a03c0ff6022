import { pgliteBackend } from './test-helpers/backends.js';
import { describeOneStatementWrites } from './test-helpers/one-statement-suite.js';

// A step's writes with their events, one statement each, on embedded PGlite (in memory).
describeOneStatementWrites(pgliteBackend());
