/**
 * Runs every `*.bench.ts` in this folder in its own child process (so memory figures are not
 * mixed) and prints their tables. Pass names to run a subset: `pnpm bench engine runtime`.
 * Exits 0 whatever the timings; a crashing benchmark is reported, not fatal.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

let failed = 0;
for (const f of files) {
  console.log(`\n# ${f}`);
  const r = spawnSync(process.execPath, ['--conditions=source', '--expose-gc', '--import', 'tsx', join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`(benchmark ${f} exited with ${r.status ?? r.signal}; continuing)`);
  }
}
console.log(`\n${files.length} benchmark file(s) run${failed ? `, ${failed} crashed` : ''}.`);
