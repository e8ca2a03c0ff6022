import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RuntimeStores } from '@baton/agent-runtime';
import { createEmbeddedStores, createPostgresStores } from '@baton/postgres';

/** The tenant and principal the demo runs as. */
export const DEMO_SCOPE = { scopeId: 'acme', principalId: 'release-bot' } as const;

/** What host A leaves for host B: the job, its action, and the resume token a person would get. */
export interface PendingApproval {
  jobId: string;
  scopeId: string;
  actionId: string;
  resumeToken: string;
  timings: { openStoresMs: number; pauseMs: number };
}

export function dataDirOf(): string {
  return process.env['BATON_DEMO_DIR'] ?? join(process.cwd(), '.baton-data', 'cross-host');
}

/** Postgres when DATABASE_URL is set, else embedded PGlite in the data directory. */
export async function openStores(dataDir: string): Promise<RuntimeStores & { label: string; close(): Promise<void> }> {
  const url = process.env['DATABASE_URL'];
  if (url) {
    const stores = await createPostgresStores({ connectionString: url, schema: 'baton_demo' });
    return Object.assign(stores, { label: `Postgres (${new URL(url).host})` });
  }
  await mkdir(dataDir, { recursive: true });
  const stores = await createEmbeddedStores({ dir: join(dataDir, 'pglite') });
  return Object.assign(stores, { label: 'embedded PGlite' });
}
