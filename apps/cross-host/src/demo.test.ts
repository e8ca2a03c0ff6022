import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];

/** Runs `pnpm demo` the way a user does: two processes over one embedded database. */
function runDemo(dataDir: string, args: string[] = []) {
  const env: NodeJS.ProcessEnv = { ...process.env, BATON_DEMO_DIR: dataDir, NO_COLOR: '1' };
  delete env['OPENAI_API_KEY'];
  delete env['ANTHROPIC_API_KEY'];
  delete env['DATABASE_URL'];
  return spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', join(here, 'main.ts'), ...args], { env, cwd: join(here, '..'), encoding: 'utf8', timeout: 110_000 });
}

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('pnpm demo (cross-host)', () => {
  it('pauses on host A, resumes on host B from the embedded store, and publishes once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-demo-'));
    dirs.push(dataDir);
    const run = runDemo(dataDir, ['--approve']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('[host A]');
    expect(run.stdout).toMatch(/is waiting for approval/);
    expect(run.stdout).toMatch(/\[host B\] loaded job \S+ \(waiting_for_action, 3 journaled steps\)/);
    expect(run.stdout).toContain('status: completed');
    expect(run.stdout).toMatch(/host-a\s+0\.0\s+model/);
    expect(run.stdout).toMatch(/host-b\s+0\.3\s+tool\s+deploy_release_note/);
    expect(run.stdout).toContain('The 1.5.0 release note is live');
    const published = await readFile(join(dataDir, 'published', 'release-1.5.0.md'), 'utf8');
    expect(published.match(/<!-- job_/g)).toHaveLength(1);
    expect(published).toContain('Baton 1.5.0');
  });

  it('a rejection on host B reaches the model and nothing is published', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-demo-'));
    dirs.push(dataDir);
    const run = runDemo(dataDir, ['--reject']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('answer: reject');
    expect(run.stdout).toContain('deploy_release_note (refused)');
    expect(run.stdout).toContain('The release note was not published');
    expect(await readdir(dataDir)).not.toContain('published');
  });
});
