import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonError } from '@baton/llm-client';
import { makeTestJobRecord } from '@baton/agent-runtime/testing';
import { createEmbeddedStores } from './create-stores.js';
import { EmbeddedDirectoryLockedError } from './errors/embedded-directory-locked-error.js';
import { DirectoryLock, LOCK_FILE_NAME, startTimeFromStat } from './sql/directory-lock.js';
import { pgliteDirectory } from './sql/pglite-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const scopeId = 'scope-lock';
let base: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'baton-lock-'));
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(base, { recursive: true, force: true });
});

async function openError(dir: string): Promise<unknown> {
  return createEmbeddedStores({ dir }).then(
    async (stores) => {
      await stores.close();
      return undefined;
    },
    (error: unknown) => error,
  );
}

/** Where the host has a /proc (Linux), a lock file also names the holder's boot id and start time. */
const hasProc = existsSync('/proc/self/stat') && existsSync('/proc/sys/kernel/random/boot_id');

/** The boot id and start time of a live process, read from /proc. */
async function instanceOf(pid: number): Promise<{ bootId: string; startTime: string }> {
  const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  const startTime = startTimeFromStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  if (startTime === undefined) throw new Error(`no start time in /proc/${pid}/stat`);
  return { bootId, startTime };
}

/** Takes and gives back the lock on `dir`, or returns the error that refused it. */
async function lockError(dir: string): Promise<unknown> {
  return DirectoryLock.acquire(dir).then(
    async (lock) => {
      await lock.release();
      return undefined;
    },
    (error: unknown) => error,
  );
}

/** A pid that belonged to a process of this host which has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('createEmbeddedStores on a directory', () => {
  it('creates a nested directory whose parents do not exist yet, and finds its data after a reopen', async () => {
    const dir = join(base, 'not', 'yet', 'there', 'data');
    const first = await createEmbeddedStores({ dir });
    const job = makeTestJobRecord({ scopeId, id: 'job-nested' });
    await first.jobs.create(job);
    await first.close();
    const second = await createEmbeddedStores({ dir });
    expect(await second.jobs.get({ scopeId, jobId: job.id })).toEqual(job);
    await second.close();
  });

  it('refuses a second open in the same process with EmbeddedDirectoryLockedError, changing nothing; after close it opens', async () => {
    const dir = join(base, 'same-process');
    const first = await createEmbeddedStores({ dir });
    const lockFile = join(dir, LOCK_FILE_NAME);
    const lockBefore = await readFile(lockFile, 'utf8');
    const files = (await readdir(dir)).sort();

    // The same directory, also spelled differently.
    for (const spelling of [dir, `${dir}/`, `file://${dir}`]) {
      const error = await openError(spelling);
      expect(error).toBeInstanceOf(EmbeddedDirectoryLockedError);
      expect(BatonError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: 'embedded_dir_locked', holderPid: process.pid, holderHostname: hostname(), retryable: false });
      expect((error as Error).message).toContain(`pid ${process.pid}`);
    }
    expect(await readFile(lockFile, 'utf8')).toBe(lockBefore);
    expect((await readdir(dir)).sort()).toEqual(files);
    // The holder still works.
    await first.jobs.create(makeTestJobRecord({ scopeId, id: 'job-first' }));

    await first.close();
    await expect(readFile(lockFile, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    const second = await createEmbeddedStores({ dir });
    expect(await second.jobs.get({ scopeId, jobId: 'job-first' })).toBeDefined();
    await second.close();
  });

  it('takes over a lock left by a process that is gone, or by an earlier process with this pid', async () => {
    const dir = join(base, 'stale');
    await (await createEmbeddedStores({ dir })).close();
    const lockFile = join(dir, LOCK_FILE_NAME);
    for (const pid of [await deadPid(), process.pid]) {
      await writeFile(lockFile, JSON.stringify({ pid, hostname: hostname(), acquiredAt: 1, token: 'old' }));
      const stores = await createEmbeddedStores({ dir });
      expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, hostname: hostname() });
      await stores.close();
    }
    // A lock file that is not one of ours names no holder: it is taken over too.
    await writeFile(lockFile, 'garbage');
    await (await createEmbeddedStores({ dir })).close();
  });

  it('respects a lock held on another host (it cannot tell whether that process lives)', async () => {
    const dir = join(base, 'other-host');
    await (await createEmbeddedStores({ dir })).close();
    const lockFile = join(dir, LOCK_FILE_NAME);
    await writeFile(lockFile, JSON.stringify({ pid: await deadPid(), hostname: 'elsewhere.example', acquiredAt: 1, token: 't' }));
    const error = await openError(dir);
    expect(error).toMatchObject({ code: 'embedded_dir_locked', holderHostname: 'elsewhere.example', lockFile });
    expect((error as Error).message).toContain(lockFile);
    await rm(lockFile);
    await (await createEmbeddedStores({ dir })).close();
  });

  it('leaves memory:// and other store URLs alone (no directory, no lock)', async () => {
    expect(pgliteDirectory('memory://')).toBeUndefined();
    expect(pgliteDirectory('idb://baton')).toBeUndefined();
    expect(pgliteDirectory('opfs-ahp://baton')).toBeUndefined();
    expect(pgliteDirectory('file:///tmp/x')).toBe('/tmp/x');
    expect(pgliteDirectory('./.baton-data')).toBe('./.baton-data');
    const [a, b] = await Promise.all([createEmbeddedStores({ dir: 'memory://' }), createEmbeddedStores({ dir: 'memory://' })]);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('a directory held by another process', () => {
  it("fails the parent's open naming the child's pid; after the child is killed with SIGKILL the parent opens it", async () => {
    const dir = join(base, 'child', 'data');
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(here, 'embedded-lock-holder.fixture.ts')], {
      cwd: join(here, '..'),
      env: { ...process.env, BATON_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const ready = await new Promise<{ pid: number }>((resolve, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`holder exited early (${code ?? signal})`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const message = JSON.parse(line) as { type?: string; pid: number };
          if (message.type === 'ready') resolve(message);
        } catch {
          // not one of ours
        }
      });
    });
    expect(ready.pid).toBe(child.pid);
    if (hasProc) {
      // The lock names the child's process instance, which is the live one: it is respected.
      const lock = JSON.parse(await readFile(join(dir, LOCK_FILE_NAME), 'utf8')) as Record<string, unknown>;
      expect(lock).toMatchObject({ pid: child.pid, hostname: hostname(), ...(await instanceOf(child.pid!)) });
    }

    const error = await openError(dir);
    expect(error).toBeInstanceOf(EmbeddedDirectoryLockedError);
    expect(error).toMatchObject({ code: 'embedded_dir_locked', holderPid: child.pid, holderHostname: hostname() });
    expect((error as Error).message).toContain(`process ${child.pid}`);

    child.removeAllListeners('exit');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const stores = await createEmbeddedStores({ dir });
    expect(await stores.jobs.get({ scopeId, jobId: 'job-from-child' })).toBeDefined();
    await stores.close();
  }, 120_000);
});

describe('a lock whose pid is alive', () => {
  let live: ChildProcess;
  let dir: string;
  let lockFile: string;

  beforeAll(async () => {
    dir = join(base, 'reused-pid');
    await mkdir(dir, { recursive: true });
    lockFile = join(dir, LOCK_FILE_NAME);
    // An unrelated live process, named with spaces and parentheses as /proc/<pid>/stat shows them: `1234 (x) (y z) S …`.
    live = spawn(process.execPath, ['-e', "process.title = 'x) (y z'; console.log('ready'); setInterval(() => {}, 60000)"], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(live);
    await new Promise<void>((resolve, reject) => {
      live.once('exit', (code, signal) => reject(new Error(`live process exited early (${code ?? signal})`)));
      createInterface({ input: live.stdout! }).once('line', () => resolve());
    });
  });

  const lockOf = (fields: Record<string, unknown>) => JSON.stringify({ pid: live.pid, hostname: hostname(), acquiredAt: 1, token: 'old', ...fields });

  it('records the holder: pid, host, and on Linux its boot id and start time', async () => {
    const lock = await DirectoryLock.acquire(dir);
    const info = JSON.parse(await readFile(lockFile, 'utf8')) as Record<string, unknown>;
    expect(info).toMatchObject({ pid: process.pid, hostname: hostname() });
    if (hasProc) expect(info).toMatchObject(await instanceOf(process.pid));
    else expect(info).not.toHaveProperty('startTime');
    await lock.release();
  });

  it.runIf(hasProc)('takes over a lock whose pid now belongs to another process: another start time, or another boot', async () => {
    const instance = await instanceOf(live.pid!);
    expect((await readFile(`/proc/${live.pid}/stat`, 'utf8')).startsWith(`${live.pid} (x) (y z) `)).toBe(true);
    for (const stale of [
      { ...instance, startTime: String(Number(instance.startTime) + 1) },
      { ...instance, bootId: '00000000-0000-0000-0000-000000000000' },
    ]) {
      await writeFile(lockFile, lockOf(stale));
      const lock = await DirectoryLock.acquire(dir);
      expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, token: expect.not.stringMatching(/^old$/) });
      await lock.release();
      await expect(readFile(lockFile, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it.runIf(hasProc)('respects a lock naming the live process instance itself (parsed past the parentheses of its name)', async () => {
    await writeFile(lockFile, lockOf(await instanceOf(live.pid!)));
    const error = await lockError(dir);
    expect(error).toBeInstanceOf(EmbeddedDirectoryLockedError);
    expect(error).toMatchObject({ holderPid: live.pid, holderHostname: hostname() });
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ token: 'old' });
    await rm(lockFile);
  });

  it('judges a lock file without the instance fields (an older one) by its pid: a live pid is respected', async () => {
    for (const fields of [{}, { bootId: 'b' }, { startTime: 12, bootId: 'b' }]) {
      await writeFile(lockFile, lockOf(fields));
      expect(await lockError(dir)).toMatchObject({ code: 'embedded_dir_locked', holderPid: live.pid });
    }
    await writeFile(lockFile, JSON.stringify({ pid: await deadPid(), hostname: hostname(), acquiredAt: 1, token: 'old' }));
    expect(await lockError(dir)).toBeUndefined();
    // pid 0 or below would name a process group to kill(0): not a lock of ours, taken over.
    await writeFile(lockFile, JSON.stringify({ pid: 0, hostname: hostname(), acquiredAt: 1, token: 'old' }));
    expect(await lockError(dir)).toBeUndefined();
  });

  it('finds the start time after the last parenthesis of /proc/<pid>/stat', () => {
    const fields = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i)).join(' ');
    // Fields 3… are the numbers 3…; field 22 is the start time.
    expect(startTimeFromStat(`77 (node) S ${fields(4, 52)}`)).toBe('22');
    expect(startTimeFromStat(`77 (a) (b c) 1 2) S ${fields(4, 52)}\n`)).toBe('22');
    expect(startTimeFromStat('77 (node) S 1 2')).toBeUndefined();
    expect(startTimeFromStat('garbage')).toBeUndefined();
  });
});
