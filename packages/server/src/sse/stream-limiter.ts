import { TooManyStreamsError } from '../errors/too-many-streams-error.js';

/** Counts open event streams per scope and refuses one past the limit. */
export class StreamLimiter {
  readonly #open = new Map<string, number>();

  constructor(private readonly maxPerScope: number) {}

  /** Takes a slot for `scopeId` or throws `TooManyStreamsError`; call the returned function once to give it back. */
  acquire(scopeId: string): () => void {
    const open = this.#open.get(scopeId) ?? 0;
    if (open >= this.maxPerScope) throw new TooManyStreamsError(this.maxPerScope);
    this.#open.set(scopeId, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.#open.get(scopeId) ?? 1) - 1;
      if (now <= 0) this.#open.delete(scopeId);
      else this.#open.set(scopeId, now);
    };
  }

  openStreams(scopeId: string): number {
    return this.#open.get(scopeId) ?? 0;
  }
}
