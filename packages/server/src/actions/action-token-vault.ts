import type { EventBus, RuntimeEvent } from '@baton/agent-runtime';
import { InvalidArgumentError } from '@baton/llm-client';

/** What `RuntimeKernelOptions.onActionRequired` receives. */
export interface ActionRequiredInfo {
  readonly actionId: string;
  readonly resumeToken: string;
  readonly jobId: string;
  readonly stepKey: string;
}

export interface ActionTokenVaultOptions {
  /** Tokens kept at most; the oldest is forgotten first. Default 10,000. */
  maxEntries?: number;
  /** A token is forgotten this long after it was handed out, answered or not. Default 30 days (the longest action timeout). */
  ttlMs?: number;
  now?: () => number;
}

interface Entry {
  readonly jobId: string;
  readonly token: string;
  readonly at: number;
  /** Learnt from the action's `action.required` event when the vault watches the bus. */
  scopeId: string | undefined;
}

const FORGET_ON: ReadonlySet<string> = new Set(['action.resolved', 'action.expired', 'action.escalated']);
const JOB_ENDED: ReadonlySet<string> = new Set(['job.completed', 'job.failed', 'job.cancelled', 'job.interrupted', 'job.dead_lettered']);

/**
 * Keeps the resume tokens of pending actions in memory so that the server can hand them to the
 * job's own scope (and only there): in the `action.required` event of an event stream and in
 * `GET /actions?jobId=`. The kernel stores tokens hashed and gives the plain token only to its
 * `onActionRequired` callback, so pass `vault.onActionRequired` to `RuntimeKernel.create`.
 *
 * A token is looked up by action id *and* job id, and the server looks it up only for a job it
 * has just found in the caller's scope; once the vault has seen the action's event it also
 * checks the scope. Tokens live in this process only: a job paused by another host's kernel has
 * its token there.
 */
export class ActionTokenVault {
  readonly #entries = new Map<string, Entry>();
  /** jobId → its actions with a token here. */
  readonly #byJob = new Map<string, Set<string>>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: ActionTokenVaultOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) throw new InvalidArgumentError('maxEntries', 'must be a positive integer');
    this.#ttlMs = options.ttlMs ?? 30 * 86_400_000;
    if (!(this.#ttlMs > 0)) throw new InvalidArgumentError('ttlMs', 'must be > 0');
    this.#now = options.now ?? Date.now;
  }

  /** Pass to `RuntimeKernel.create({ onActionRequired })`. */
  readonly onActionRequired = (info: ActionRequiredInfo): void => {
    this.forget(info.actionId);
    this.#entries.set(info.actionId, { jobId: info.jobId, token: info.resumeToken, at: this.#now(), scopeId: undefined });
    let actions = this.#byJob.get(info.jobId);
    if (!actions) this.#byJob.set(info.jobId, (actions = new Set()));
    actions.add(info.actionId);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.forget(oldest.value);
    }
  };

  /** The token of a pending action of `jobId` in `scopeId`, if this process handed it out. */
  tokenFor(ref: { actionId: string; jobId: string; scopeId: string }): string | undefined {
    const entry = this.#entries.get(ref.actionId);
    if (!entry || entry.jobId !== ref.jobId) return undefined;
    if (entry.scopeId !== undefined && entry.scopeId !== ref.scopeId) return undefined;
    if (entry.at + this.#ttlMs <= this.#now()) {
      this.forget(ref.actionId);
      return undefined;
    }
    return entry.token;
  }

  forget(actionId: string): void {
    const entry = this.#entries.get(actionId);
    if (!entry) return;
    this.#entries.delete(actionId);
    const actions = this.#byJob.get(entry.jobId);
    actions?.delete(actionId);
    if (actions?.size === 0) this.#byJob.delete(entry.jobId);
  }

  forgetJob(jobId: string): void {
    for (const actionId of [...(this.#byJob.get(jobId) ?? [])]) this.forget(actionId);
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Follows the bus: learns each action's scope from its `action.required` event and forgets
   * tokens once their action is answered, expired or escalated, or their job ended.
   */
  watch(bus: EventBus): () => void {
    return bus.subscribe((event) => this.#observe(event), {
      eventTypes: ['action.required', 'action.resolved', 'action.expired', 'action.escalated', 'job.completed', 'job.failed', 'job.cancelled', 'job.interrupted', 'job.dead_lettered'],
    });
  }

  #observe(event: RuntimeEvent): void {
    if (event.type === 'action.required') {
      const entry = this.#entries.get(event.data.actionId);
      if (entry && entry.jobId === event.jobId) entry.scopeId = event.scopeId;
      return;
    }
    if (JOB_ENDED.has(event.type)) {
      this.forgetJob(event.jobId);
      return;
    }
    if (FORGET_ON.has(event.type)) {
      const actionId = (event.data as { actionId: string }).actionId;
      if (this.#entries.get(actionId)?.jobId === event.jobId) this.forget(actionId);
    }
  }
}
