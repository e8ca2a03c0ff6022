/**
 * `pnpm demo`: runs host A and host B as two separate processes over one store (embedded
 * PGlite in .baton-data/, or Postgres when DATABASE_URL is set). Arguments go to host B
 * (`--approve`, `--reject`); `--fresh` deletes the data of earlier runs first (the first run
 * creates the embedded database, which takes a few seconds; later runs reuse it).
 */
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataDirOf } from './stores.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const dataDir = dataDirOf();
if (args.includes('--fresh')) await rm(dataDir, { recursive: true, force: true });
// Each run is a new release job (the store keeps the earlier ones).
const runId = randomUUID().slice(0, 8);

for (const [host, extra] of [['host-a.ts', []], ['host-b.ts', args]] as const) {
  const r = spawnSync(process.execPath, [...process.execArgv, join(here, host), ...extra], { stdio: 'inherit', env: { ...process.env, BATON_DEMO_DIR: dataDir, BATON_DEMO_RUN: runId } });
  if (r.status !== 0) {
    console.error(`\n${host} exited with ${r.status ?? r.signal}`);
    process.exit(r.status ?? 1);
  }
}
