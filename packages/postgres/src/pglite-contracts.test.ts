import { pgliteBackend } from './test-helpers/backends.js';
import { describeAllContracts } from './test-helpers/contract-suites.js';

// Every port's contract suite on embedded PGlite (in memory): one instance for the file, a fresh schema per suite.
describeAllContracts(pgliteBackend());
