import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const IN_CI = process.env.CI === 'true';

/** A schema name no other run uses: `baton_test_<random>`. */
export function freshSchemaName(prefix = 'baton_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * Whether the Postgres server of `DATABASE_URL` answers. When it does not, the service tests
 * skip with one line saying why, except in CI (`CI=true`), where they must run: there this throws.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    const why = `Postgres at ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')} is unreachable (${(error as Error).message})`;
    if (IN_CI) throw new Error(`${why}; CI=true requires it`);
    console.warn(`[postgres tests] skipped: ${why}; set DATABASE_URL or start Postgres to run them`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** The server process behind a client's LISTEN connection (to terminate it in a test), once it is open. */
export function listeningBackendPid(client: unknown): number | undefined {
  const listener = (client as { listener?: { client?: { processID?: number | null } } }).listener;
  return listener?.client?.processID ?? undefined;
}
