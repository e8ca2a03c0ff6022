import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

/** Runs `pnpm start` the way a user does, offline. */
function start(args: string[] = []) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['OPENAI_API_KEY'];
  return spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', join(here, 'main.ts'), ...args], { env, cwd: join(here, '..'), encoding: 'utf8', timeout: 110_000 });
}

describe('pnpm start (research)', () => {
  it('prints the plan, the findings, the summary, the debate verdict, the synthesis and the usage', () => {
    const run = start();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('model: scripted model (offline)');
    expect(run.stdout).toMatch(/== Plan\n {2}1\. What does a heat pump cost/);
    expect(run.stdout).toContain('== Findings (4 researchers, at most 3 at once; peak 3)');
    expect(run.stdout).toContain('== Summary');
    expect(run.stdout).toContain('verdict (consensus after 2 rounds)');
    expect(run.stdout).toContain('== Synthesis');
    expect(run.stdout).toMatch(/== Usage: \d+ tokens, \$0\.\d{6}, 17 model calls, 4 tool calls/);
    expect(run.stdout).toContain('status: completed');
  });

  it('--scope-tokens stops the job with a readable budget message', () => {
    const run = start(['--scope-tokens', '1500']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/== Stopped by budget at stage '\w+' \(scope_budget_exceeded, daily_tokens\)/);
    expect(run.stdout).toContain('daily token budget of 1500');
    expect(run.stdout).not.toContain('status: completed');
  });
});
