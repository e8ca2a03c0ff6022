export { StoreUnavailableError } from './store-unavailable-error.js';
export { MigrationError } from './migration-error.js';
export { EmbeddedDirectoryLockedError } from './embedded-directory-locked-error.js';
