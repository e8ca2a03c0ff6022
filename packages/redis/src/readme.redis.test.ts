import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeys, freshPrefix, redisAvailable, REDIS_URL, testClient } from './test-helpers/environment.js';

const available = await redisAvailable();
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
// Inside the package (so '@baton/redis' resolves to itself), in a folder git ignores.
const workDir = join(packageDir, '.readme-check');

// Every TypeScript block of the README runs as written, with its 'myapp:' prefix swapped for this run's.
describe.skipIf(!available)('README examples', () => {
  const prefix = freshPrefix();
  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
    const admin = testClient();
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  it('run and print what they say', async () => {
    const readme = await readFile(join(packageDir, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => (m[1] as string).replaceAll('myapp:', prefix));
    expect(blocks).toHaveLength(2);
    await mkdir(workDir, { recursive: true });
    const outputs = await Promise.all(
      blocks.map(async (code, i) => {
        const file = join(workDir, `block-${i}.ts`);
        await writeFile(file, code);
        const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
          cwd: packageDir,
          env: { ...process.env, REDIS_URL },
          timeout: 30_000,
        });
        return stdout;
      }),
    );
    expect(outputs[0]?.trim()).toBe('resolved');
    expect(outputs[1]).toMatch(/^\d+-\d+ job\.completed 1$/m);
  });
});
