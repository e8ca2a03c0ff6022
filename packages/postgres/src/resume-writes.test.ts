import { pgliteBackend } from './test-helpers/backends.js';
import { describeResumeWrites } from './test-helpers/resume-write-suite.js';

// A resume's read and write, one statement each, on embedded PGlite (in memory).
describeResumeWrites(pgliteBackend());
