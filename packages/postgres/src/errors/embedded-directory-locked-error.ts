import { BatonError } from '@baton/llm-client';

/**
 * A PGlite directory is already open: in another process, or earlier in this one. One process at
 * a time may open a directory (two PGlite instances on the same files corrupt them), so the open
 * was refused and nothing was changed. The holder is named by the lock file in the directory.
 * Not retryable as such: the directory frees up when the holder calls `close()` or exits.
 */
export class EmbeddedDirectoryLockedError extends BatonError {
  override readonly name = 'EmbeddedDirectoryLockedError';
  readonly code = 'embedded_dir_locked';
  /** The directory that was asked for. */
  readonly dir: string;
  /** The lock file naming the holder. */
  readonly lockFile: string;
  /** The holder's process id. */
  readonly holderPid: number;
  /** The host the holder runs on. */
  readonly holderHostname: string;
  constructor(options: { dir: string; lockFile: string; holderPid: number; holderHostname: string; sameProcess: boolean }) {
    const where = options.sameProcess
      ? `is already open in this process (pid ${options.holderPid}); close the other stores first`
      : `is open in process ${options.holderPid} on host '${options.holderHostname}'; close it there, or, if that process is gone, delete ${options.lockFile}`;
    super({ message: `PGlite directory '${options.dir}' ${where} (one process at a time may open a directory)` });
    this.dir = options.dir;
    this.lockFile = options.lockFile;
    this.holderPid = options.holderPid;
    this.holderHostname = options.holderHostname;
  }
}
