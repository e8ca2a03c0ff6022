import { BatonError } from '@baton/llm-client';

/**
 * The database schema could not be brought up to date: a migration failed (and was rolled back),
 * or the database was migrated by a newer version of this package than the running one.
 */
export class MigrationError extends BatonError {
  override readonly name = 'MigrationError';
  readonly code = 'migration_failed';
  readonly schema: string;
  readonly version: number | undefined;
  constructor(options: { schema: string; message: string; version?: number | undefined; cause?: unknown }) {
    super({ message: `Schema '${options.schema}': ${options.message}`, cause: options.cause });
    this.schema = options.schema;
    this.version = options.version;
  }
}
