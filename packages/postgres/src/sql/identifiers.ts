import { InvalidArgumentError } from '@baton/llm-client';

/** Postgres truncates identifiers past 63 bytes; a schema name must fit. */
const MAX_IDENTIFIER_BYTES = 63;

/** Quotes an identifier for SQL text (`"a""b"`). Identifiers are the only names spliced into SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Checks a schema name given in options: non-empty, at most 63 bytes, no NUL. */
export function validateSchemaName(schema: unknown): string {
  if (typeof schema !== 'string' || schema.length === 0) throw new InvalidArgumentError('schema', 'must be a non-empty string');
  if (schema.includes('\u0000')) throw new InvalidArgumentError('schema', 'must not contain NUL');
  if (Buffer.byteLength(schema, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new InvalidArgumentError('schema', `must be at most ${MAX_IDENTIFIER_BYTES} bytes (Postgres truncates longer names)`);
  }
  if (schema.startsWith('pg_')) throw new InvalidArgumentError('schema', "names starting with 'pg_' are reserved by Postgres");
  return schema;
}
