import { randomBytes } from 'node:crypto';
import { link, readFile, realpath, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDirectoryLockedError } from '../errors/embedded-directory-locked-error.js';

/** The lock file's name inside a PGlite directory. */
export const LOCK_FILE_NAME = 'baton.lock';

/** What a lock file holds: who holds the directory, and a token that tells one holding from the next. */
interface LockInfo {
  readonly pid: number;
  readonly hostname: string;
  readonly acquiredAt: number;
  readonly token: string;
}

/**
 * Lock files this process holds or is taking, by path. The file alone cannot tell this process
 * from an earlier one that had the same pid (a container restarted as pid 1), so the process
 * remembers its own.
 */
const heldHere = new Set<string>();

/**
 * An exclusive hold on a directory, across processes: a lock file in the directory naming the
 * holder's pid and host. Taking it is atomic (the file is written whole under a private name,
 * then hard-linked to the lock name, which fails when the name exists); a lock whose pid is no
 * longer alive on this host is stale and taken over, so a holder killed with SIGKILL blocks no
 * one. A lock from another host cannot be checked and is respected.
 */
export class DirectoryLock {
  private released = false;

  private constructor(
    readonly file: string,
    private readonly token: string,
  ) {}

  /** Takes the lock on `dir` (which must exist), or throws `EmbeddedDirectoryLockedError` naming the holder. */
  static async acquire(dir: string): Promise<DirectoryLock> {
    const file = join(await realpath(dir), LOCK_FILE_NAME);
    const host = hostname();
    if (heldHere.has(file)) throw locked(dir, file, { pid: process.pid, hostname: host }, true);
    heldHere.add(file);
    try {
      // A few rounds: each either takes the lock, finds a live holder, or clears a stale lock and tries again.
      for (let round = 0; round < 8; round++) {
        const token = randomBytes(12).toString('hex');
        const info: LockInfo = { pid: process.pid, hostname: host, acquiredAt: Date.now(), token };
        if (await tryCreate(file, info)) return new DirectoryLock(file, token);
        const holder = await readLock(file);
        if (holder === 'absent') continue;
        if (holder !== 'unreadable' && !isStale(holder, host)) throw locked(dir, file, holder, false);
        await clearStale(file, holder === 'unreadable' ? undefined : holder.token);
      }
      const holder = await readLock(file);
      throw locked(dir, file, typeof holder === 'object' ? holder : { pid: 0, hostname: 'unknown' }, false);
    } catch (error) {
      heldHere.delete(file);
      throw error;
    }
  }

  /** Gives the directory up (idempotent). A lock file that is no longer this holder's is left alone. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      const current = await readLock(this.file);
      if (typeof current === 'object' && current.token === this.token) await unlink(this.file).catch(ignoreMissing);
    } finally {
      heldHere.delete(this.file);
    }
  }
}

async function tryCreate(file: string, info: LockInfo): Promise<boolean> {
  const draft = `${file}.${info.pid}.${info.token}.tmp`;
  await writeFile(draft, `${JSON.stringify(info)}\n`, { flag: 'wx' });
  try {
    await link(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(draft).catch(ignoreMissing);
  }
}

async function readLock(file: string): Promise<LockInfo | 'absent' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockInfo>;
    if (Number.isInteger(parsed.pid) && typeof parsed.hostname === 'string' && typeof parsed.token === 'string') return parsed as LockInfo;
  } catch {
    // not a lock this package wrote
  }
  return 'unreadable';
}

/** Whether the holder is known to be gone: same host, and its pid is not alive (or is this process, which does not hold it). */
function isStale(holder: LockInfo, host: string): boolean {
  if (holder.hostname !== host) return false;
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes a stale lock without removing a fresh one another opener made meanwhile: the file is
 * moved to a private name first, and put back if it turns out to be someone else's.
 */
async function clearStale(file: string, staleToken: string | undefined): Promise<void> {
  const aside = `${file}.stale.${randomBytes(8).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readLock(aside);
  const movedToken = typeof moved === 'object' ? moved.token : undefined;
  if (movedToken !== staleToken) await link(aside, file).catch(() => {});
  await unlink(aside).catch(ignoreMissing);
}

function locked(dir: string, lockFile: string, holder: { pid: number; hostname: string }, sameProcess: boolean): EmbeddedDirectoryLockedError {
  return new EmbeddedDirectoryLockedError({ dir, lockFile, holderPid: holder.pid, holderHostname: holder.hostname, sameProcess });
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
