import { randomBytes } from 'node:crypto';
import { link, readFile, realpath, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDirectoryLockedError } from '../errors/embedded-directory-locked-error.js';

/** The lock file's name inside a PGlite directory. */
export const LOCK_FILE_NAME = 'baton.lock';

/**
 * What a lock file holds: who holds the directory, and a token that tells one holding from the
 * next. Where the host has a /proc (Linux), also which instance of the pid it is: the kernel's boot
 * id and the process's start time (clock ticks since boot), so that a pid reused by another
 * process, or a lock from before a reboot, is seen to be stale. Files written before these fields
 * existed, or without a /proc, lack them: such a lock is judged by its pid alone.
 */
interface LockInfo {
  readonly pid: number;
  readonly hostname: string;
  readonly acquiredAt: number;
  readonly token: string;
  readonly bootId?: string | undefined;
  readonly startTime?: string | undefined;
}

/** One process instance on a Linux host: the boot it runs in and its start time in that boot. */
interface ProcessInstance {
  readonly bootId: string;
  readonly startTime: string;
}

/**
 * Lock files this process holds or is taking, by path. The file alone cannot tell this process
 * from an earlier one that had the same pid (a container restarted as pid 1), so the process
 * remembers its own.
 */
const heldHere = new Set<string>();

/**
 * An exclusive hold on a directory, across processes: a lock file in the directory naming the
 * holder's pid and host, and on Linux the holder's boot id and start time. Taking it is atomic (the
 * file is written whole under a private name, then hard-linked to the lock name, which fails when
 * the name exists). A lock of this host is stale, and taken over, when its pid is no longer alive,
 * or when the pid is alive but is another process than the one that wrote the lock (another boot
 * id, or another start time: the holder died and its pid was reused, as small pids are in
 * containers and after a reboot). So a holder killed with SIGKILL blocks no one. Without a /proc
 * (macOS, Windows), or for a lock file without these fields, a live pid counts as the holder. A
 * lock from another host cannot be checked and is respected.
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
      const self = await processInstance(process.pid);
      // A few rounds: each either takes the lock, finds a live holder, or clears a stale lock and tries again.
      for (let round = 0; round < 8; round++) {
        const token = randomBytes(12).toString('hex');
        const info: LockInfo = { pid: process.pid, hostname: host, acquiredAt: Date.now(), token, ...self };
        if (await tryCreate(file, info)) return new DirectoryLock(file, token);
        const holder = await readLock(file);
        if (holder === 'absent') continue;
        if (holder !== 'unreadable' && !(await isStale(holder, host))) throw locked(dir, file, holder, false);
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
    const parsed = JSON.parse(text) as Partial<Record<keyof LockInfo, unknown>> | null;
    const { pid, token, bootId, startTime } = parsed ?? {};
    const host = parsed?.hostname;
    // A pid of 0 or below names a process group to kill(), never a holder.
    if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0 && typeof host === 'string' && typeof token === 'string') {
      // The instance fields count only as a pair of strings; otherwise the lock is judged by its pid, as one written before they existed.
      const instance = typeof bootId === 'string' && typeof startTime === 'string' ? { bootId, startTime } : {};
      return { pid, hostname: host, acquiredAt: typeof parsed?.acquiredAt === 'number' ? parsed.acquiredAt : 0, token, ...instance };
    }
  } catch {
    // not a lock this package wrote
  }
  return 'unreadable';
}

/**
 * Whether the holder is known to be gone: same host, and its pid is not alive (or is this process,
 * which does not hold it), or is alive but is not the process instance the lock names (another
 * boot, or another start time). When the instance cannot be checked (an old lock file, no /proc),
 * a live pid is taken for the holder.
 */
async function isStale(holder: LockInfo, host: string): Promise<boolean> {
  if (holder.hostname !== host) return false;
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: alive, another user's; its instance is still checked below.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  if (holder.bootId === undefined || holder.startTime === undefined) return false;
  const bootId = await currentBootId();
  if (bootId === undefined) return false;
  if (bootId !== holder.bootId) return true;
  const startTime = await startTimeOf(holder.pid);
  return startTime !== undefined && startTime !== holder.startTime;
}

/** This process's instance, or undefined where /proc cannot tell it (macOS, Windows). */
async function processInstance(pid: number): Promise<ProcessInstance | undefined> {
  const [bootId, startTime] = await Promise.all([currentBootId(), startTimeOf(pid)]);
  return bootId === undefined || startTime === undefined ? undefined : { bootId, startTime };
}

/** The kernel's boot id, new at each boot; undefined without /proc. */
async function currentBootId(): Promise<string | undefined> {
  const text = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '');
  return text.trim() || undefined;
}

/** The start time of `pid` from /proc; undefined without /proc, for a process that is gone, or one /proc hides (hidepid). */
async function startTimeOf(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return startTimeFromStat(text);
}

/**
 * The start time (field 22, clock ticks after boot) from the text of `/proc/<pid>/stat`, or
 * undefined when it does not parse. Field 2 is the command name in parentheses, which may itself
 * hold spaces and parentheses, so the fields are counted from after the last ')'.
 */
export function startTimeFromStat(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After the command name come fields 3 (state), 4, …: field 22 is the 20th.
  const field = stat.slice(close + 1).trim().split(/\s+/)[22 - 3];
  return field !== undefined && /^\d+$/.test(field) ? field : undefined;
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
