import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '@baton/llm-client';
import type { ExecutionContext } from '../context/execution-context.js';
import {
  ActionAlreadyResolvedError,
  ActionCancelledError,
  ActionConflictError,
  ActionExpiredError,
  ActionNotFoundError,
  ApproverNotAllowedError,
  DuplicateApprovalError,
  InvalidResumeTokenError,
} from '../errors/action-errors.js';
import { ACTION_RECORD_SCHEMA_VERSION, type ActionApproval, type ActionRecord, type ActionStore, type CompareAndSetResult, type WriteSignal } from '../ports/action-store.js';
import { signalChannelName, type SignalChannel } from '../ports/signal-channel.js';
import type { ActionEvent, ActionEventType } from './action-events.js';
import { timeoutOutcome, type ExpiryOutcome, type ExpirySweepResult } from './action-expiry.js';
import { waitUntilFinal } from './action-waiter.js';
import { normalizeActionSpec, type ActionSpec, type NormalizedActionSpec } from './action-spec.js';
import { ActionTypeRegistry } from './action-type-registry.js';
import { decisionOf, parseResolution } from './action-type.js';
import { generateResumeToken, hashResumeToken, isWellFormedResumeToken } from './resume-token.js';

export interface ActionManagerOptions {
  store: ActionStore;
  signals: SignalChannel;
  /** Known action types (default: a registry with the built-in `approval`). */
  actionTypes?: ActionTypeRegistry;
  /** Epoch milliseconds (default `Date.now`). */
  now?: () => number;
  generateId?: () => string;
  /** Must return ≥ 128 random bits in base64url (default: 32 bytes from `crypto.randomBytes`). */
  generateToken?: () => string;
  /** Timeout of a spec that sets none (default 86 400 s). */
  defaultTimeoutSeconds?: number;
  /** Longest allowed timeout (default 30 days). */
  maxTimeoutSeconds?: number;
  /** While waiting, the store is re-read this often in case a signal was lost (default 30 000 ms). */
  waitPollIntervalMs?: number;
  /** Lifecycle events. A throwing listener is ignored. */
  onEvent?: (event: ActionEvent) => void;
  /** Called when publishing a wake-up signal fails (waiters still see the change at their next poll). */
  onSignalError?: (error: unknown) => void;
}

export interface RequiredAction {
  action: ActionRecord;
  /** Hand it to the person (or UI) who answers; it is not stored and cannot be recovered. */
  resumeToken: string;
}

const MAX_CAS_ATTEMPTS = 8;

/**
 * Human-in-the-loop actions: create one with a single-use resume token, resolve it (n-of-m,
 * validated against its type), wait for it with a deadline, expire it. Every change is a
 * compare-and-set on the store, so concurrent resolvers or sweepers on any host cannot both win.
 */
export class ActionManager {
  readonly actionTypes: ActionTypeRegistry;
  private readonly store: ActionStore;
  private readonly signals: SignalChannel;
  private readonly now: () => number;
  private readonly generateId: () => string;
  private readonly generateToken: () => string;
  private readonly defaultTimeoutSeconds: number;
  private readonly maxTimeoutSeconds: number;
  private readonly waitPollIntervalMs: number;
  private readonly onEvent: ((event: ActionEvent) => void) | undefined;
  private readonly onSignalError: (error: unknown) => void;

  constructor(options: ActionManagerOptions) {
    if (!options?.store) throw new InvalidArgumentError('store', 'an ActionStore is required');
    if (!options.signals) throw new InvalidArgumentError('signals', 'a SignalChannel is required');
    this.store = options.store;
    this.signals = options.signals;
    this.actionTypes = options.actionTypes ?? new ActionTypeRegistry();
    this.now = options.now ?? Date.now;
    this.generateId = options.generateId ?? (() => `act_${randomUUID()}`);
    this.generateToken = options.generateToken ?? generateResumeToken;
    this.defaultTimeoutSeconds = positive('defaultTimeoutSeconds', options.defaultTimeoutSeconds ?? 86_400);
    this.maxTimeoutSeconds = positive('maxTimeoutSeconds', options.maxTimeoutSeconds ?? 30 * 86_400);
    this.waitPollIntervalMs = positive('waitPollIntervalMs', options.waitPollIntervalMs ?? 30_000);
    this.onEvent = options.onEvent;
    this.onSignalError = options.onSignalError ?? (() => {});
  }

  /** Creates a pending action for the job in `ctx` (which must carry `jobId`). */
  async requireAction(spec: ActionSpec, ctx: ExecutionContext): Promise<RequiredAction> {
    const created = this.prepareAction(spec, ctx);
    await this.store.create(created.action);
    this.announce(created.action);
    return created;
  }

  /**
   * A new request checked and built as `requireAction` does, but not stored: the caller stores
   * it with its job's pause (`ActionStore.createWithJobUpdate`, one write where the stores share
   * transactions), then calls `announce`. Its token is valid once stored.
   */
  prepareAction(spec: ActionSpec, ctx: ExecutionContext): RequiredAction {
    if (!ctx?.scopeId) throw new InvalidArgumentError('ctx.scopeId', 'is required');
    if (!ctx.jobId) throw new InvalidArgumentError('ctx.jobId', 'an action belongs to a job');
    const normalized = normalizeActionSpec(spec, this.options());
    return this.newRecord(normalized, { scopeId: ctx.scopeId, jobId: ctx.jobId, createdBy: ctx.principalId });
  }

  /** Reports a prepared action once it is stored (`onEvent` gets `action.required`). */
  announce(action: ActionRecord): void {
    this.emit('action.required', action);
  }

  /** Where the actions are kept. */
  get actionStore(): ActionStore {
    return this.store;
  }

  /**
   * Records `principalId`'s answer. Resolves the action when the required approvals are in,
   * rejects it on any approver's rejection, else leaves it pending with the approval recorded
   * (the token stays valid for the other approvers). Returns the record as stored.
   * Errors change nothing: `InvalidResumeTokenError` (forged, other scope, replaced),
   * `ActionExpiredError`, `ActionAlreadyResolvedError`, `ActionCancelledError`,
   * `ApproverNotAllowedError`, `DuplicateApprovalError`, `InvalidResolutionError`.
   */
  async resolve(
    resumeToken: string,
    resolution: unknown,
    options: {
      scopeId: string;
      principalId: string;
      comment?: string;
      /** How the action is found by its token's hash (default: `ActionStore.getByTokenHash`); a caller may read more with it (the job). */
      find?: ((query: { scopeId: string; tokenHash: string }) => Promise<ActionRecord | undefined>) | undefined;
      /**
       * How the answer is written (default: `ActionStore.compareAndSet`); a caller may write more
       * with it (the job's resume, `ActionStore.compareAndSetWithJobUpdate`). A lost race is
       * retried from `find`, as with the default. `signal` is a final answer's wake-up for waiters
       * elsewhere: a write that sends it itself says so (`signalled: true`), else it is published
       * after the write.
       */
      write?: ((answer: { record: ActionRecord; expectedVersion: number }, signal: WriteSignal | undefined) => Promise<CompareAndSetResult>) | undefined;
    },
  ): Promise<ActionRecord> {
    const { scopeId, principalId } = options ?? ({} as typeof options);
    if (!scopeId) throw new InvalidArgumentError('scopeId', 'is required');
    if (!principalId) throw new InvalidArgumentError('principalId', 'is required');
    if (!isWellFormedResumeToken(resumeToken)) throw new InvalidResumeTokenError(scopeId);
    const tokenHash = hashResumeToken(resumeToken);
    let lastSeen = '';
    const find = options.find ?? ((query) => this.store.getByTokenHash(query));
    const write = options.write ?? ((answer) => this.store.compareAndSet(answer));
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const record = await find({ scopeId, tokenHash });
      if (!record) throw new InvalidResumeTokenError(scopeId);
      lastSeen = record.id;
      const now = this.now();
      assertOpen(record, now);
      if (record.approvers.length > 0 && !record.approvers.includes(principalId)) throw new ApproverNotAllowedError(record.id, principalId);
      if (record.approvals.some((a) => a.principalId === principalId)) throw new DuplicateApprovalError(record.id, principalId);
      const type = this.actionTypes.require(record.type);
      const parsed = parseResolution(type, record.id, resolution);
      const decision = decisionOf(type, parsed);
      const comment = options.comment ?? commentOf(parsed);
      const approval: ActionApproval = { principalId, decision, ...(comment !== undefined ? { comment } : {}), resolution: parsed as ActionApproval['resolution'], at: now };
      const approvals = [...record.approvals, approval];
      const approvedCount = approvals.filter((a) => a.decision === 'approve').length;
      const status = decision === 'reject' ? 'rejected' : approvedCount >= record.requiredApprovals ? 'resolved' : 'pending';
      const next: ActionRecord =
        status === 'pending'
          ? { ...record, approvals }
          : { ...record, approvals, status, resolution: approval.resolution, resolvedBy: principalId, resolvedAt: now };
      let signal: WriteSignal | undefined;
      try {
        signal = status === 'pending' ? undefined : this.finalSignal(next);
      } catch {
        signal = undefined; // published (or reported to onSignalError) after the write, as without one
      }
      const result = await write({ record: next, expectedVersion: record.version }, signal);
      if (!result.ok) continue; // someone else wrote in between: re-read and re-check everything
      if (status === 'pending') this.emit('action.approval_recorded', result.record);
      else await this.finished(result.record, status === 'resolved' ? 'action.resolved' : 'action.rejected', result.signalled === true);
      return result.record;
    }
    throw new ActionConflictError(lastSeen);
  }

  /**
   * Waits until the action is final and returns it, following escalations to the action that
   * replaced it (unless `followEscalation: false`). Wakes on the `action.resolved` signal, re-reads
   * the store every `waitPollIntervalMs`, and gives up at `deadline` (epoch ms, required) with
   * `ActionWaitTimeoutError`; `signal` aborts with `AbortError`.
   */
  async waitForResolution(actionId: string, options: { scopeId: string; deadline: number; signal?: AbortSignal; followEscalation?: boolean }): Promise<ActionRecord> {
    if (!options?.scopeId) throw new InvalidArgumentError('scopeId', 'is required');
    if (typeof options.deadline !== 'number' || !Number.isFinite(options.deadline)) throw new InvalidArgumentError('deadline', 'every wait needs a finite deadline (epoch ms)');
    let id = actionId;
    for (let hops = 0; hops < 100; hops++) {
      const record = await waitUntilFinal({ store: this.store, signals: this.signals, now: this.now, pollIntervalMs: this.waitPollIntervalMs, actionId: id, scopeId: options.scopeId, deadline: options.deadline, abort: options.signal });
      if (record.status !== 'escalated' || options.followEscalation === false || !record.escalatedToActionId) return record;
      id = record.escalatedToActionId;
    }
    throw new InvalidArgumentError('actionId', 'escalation chain longer than 100 actions');
  }

  /**
   * Applies `onTimeout` to every pending action past its expiry (at most `limit` per call,
   * default 100): `fail` → expired, `default` → resolved with `defaultResolution` (rejected if the
   * type reads it as a rejection), `escalate` → a new linked action. Any host may run it; an
   * action resolved or swept concurrently is skipped. Escalations return the new token.
   */
  async expireDue(options: { now?: number; scopeId?: string; limit?: number } = {}): Promise<ExpirySweepResult> {
    const now = options.now ?? this.now();
    const due = await this.store.listExpired({ now, ...(options.scopeId ? { scopeId: options.scopeId } : {}), ...(options.limit ? { limit: options.limit } : {}) });
    const outcomes: ExpiryOutcome[] = [];
    for (const record of due) {
      const outcome = await this.expireOne(record, now);
      if (outcome) outcomes.push(outcome);
    }
    return { outcomes };
  }

  /** Cancels a pending action (e.g. with its job). An action already final is returned unchanged. */
  async cancel(actionId: string, options: { scopeId: string }): Promise<ActionRecord> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const record = await this.mustGet(actionId, options.scopeId);
      if (record.status !== 'pending') return record;
      const now = this.now();
      const result = await this.store.compareAndSet({ record: { ...record, status: 'cancelled', resolvedBy: 'system:cancel', resolvedAt: now }, expectedVersion: record.version });
      if (!result.ok) continue;
      await this.finished(result.record, 'action.cancelled');
      return result.record;
    }
    throw new ActionConflictError(actionId);
  }

  /** Cancels every pending action of a job; returns those it cancelled. */
  async cancelJobActions(options: { scopeId: string; jobId: string }): Promise<ActionRecord[]> {
    const cancelled: ActionRecord[] = [];
    for (const record of await this.store.listByJob(options)) {
      if (record.status !== 'pending') continue;
      const after = await this.cancel(record.id, { scopeId: options.scopeId });
      if (after.status === 'cancelled') cancelled.push(after);
    }
    return cancelled;
  }

  /**
   * Replaces a pending action's token (the old one stops working), e.g. when the token was lost
   * before it reached anyone. Approvals already recorded stay.
   */
  async reissueToken(actionId: string, options: { scopeId: string }): Promise<RequiredAction> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const record = await this.mustGet(actionId, options.scopeId);
      assertOpen(record, this.now());
      const resumeToken = this.token();
      const result = await this.store.compareAndSet({ record: { ...record, tokenHash: hashResumeToken(resumeToken) }, expectedVersion: record.version });
      if (result.ok) return { action: result.record, resumeToken };
    }
    throw new ActionConflictError(actionId);
  }

  async get(actionId: string, options: { scopeId: string }): Promise<ActionRecord | undefined> {
    return this.store.get({ scopeId: options.scopeId, actionId });
  }

  async listByJob(options: { scopeId: string; jobId: string }): Promise<ActionRecord[]> {
    return this.store.listByJob(options);
  }

  async listPending(options: { scopeId: string; limit?: number }): Promise<ActionRecord[]> {
    return this.store.listPending(options);
  }

  private async expireOne(record: ActionRecord, now: number): Promise<ExpiryOutcome | undefined> {
    const plan = timeoutOutcome(record, now, this.actionTypes);
    let escalation: RequiredAction | undefined;
    let next = plan.next;
    if (plan.escalateTo) {
      escalation = this.newRecord(plan.escalateTo, { scopeId: record.scopeId, jobId: record.jobId, escalatedFromActionId: record.id, stepKey: record.stepKey, now });
      await this.store.create(escalation.action);
      next = { ...next, escalatedToActionId: escalation.action.id };
    }
    const result = await this.store.compareAndSet({ record: next, expectedVersion: record.version });
    if (!result.ok) {
      // Resolved or swept by someone else meanwhile: withdraw the escalation we prepared.
      if (escalation) await this.store.compareAndSet({ record: { ...escalation.action, status: 'cancelled', resolvedBy: 'system:cancel', resolvedAt: now }, expectedVersion: 1 });
      return undefined;
    }
    if (escalation) this.emit('action.required', escalation.action);
    await this.finished(result.record, plan.event);
    return escalation
      ? { outcome: plan.outcome, action: result.record, escalation: { action: escalation.action, resumeToken: escalation.resumeToken } }
      : { outcome: plan.outcome, action: result.record };
  }

  private newRecord(
    spec: NormalizedActionSpec,
    at: { scopeId: string; jobId: string; createdBy?: string; escalatedFromActionId?: string; stepKey?: string; now?: number },
  ): RequiredAction {
    const id = this.generateId();
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError('generateId', 'returned an empty id');
    const resumeToken = this.token();
    const now = at.now ?? this.now();
    const action: ActionRecord = {
      schemaVersion: ACTION_RECORD_SCHEMA_VERSION,
      id,
      scopeId: at.scopeId,
      jobId: at.jobId,
      stepKey: at.stepKey ?? spec.stepKey ?? `action:${id}`,
      type: spec.type,
      title: spec.title,
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      ...(spec.payload !== undefined ? { payload: spec.payload } : {}),
      status: 'pending',
      tokenHash: hashResumeToken(resumeToken),
      approvers: spec.approvers,
      requiredApprovals: spec.requiredApprovals,
      approvals: [],
      timeoutSeconds: spec.timeoutSeconds,
      onTimeout: spec.onTimeout,
      ...(spec.defaultResolution !== undefined ? { defaultResolution: spec.defaultResolution } : {}),
      ...(spec.escalateTo !== undefined ? { escalateTo: spec.escalateTo } : {}),
      ...(at.escalatedFromActionId !== undefined ? { escalatedFromActionId: at.escalatedFromActionId } : {}),
      ...(at.createdBy !== undefined ? { createdBy: at.createdBy } : {}),
      createdAt: now,
      expiresAt: now + Math.ceil(spec.timeoutSeconds * 1000),
      version: 1,
    };
    return { action, resumeToken };
  }

  private token(): string {
    const token = this.generateToken();
    if (!isWellFormedResumeToken(token)) throw new InvalidArgumentError('generateToken', 'must return at least 22 base64url characters (128 bits)');
    return token;
  }

  private async mustGet(actionId: string, scopeId: string): Promise<ActionRecord> {
    if (!scopeId) throw new InvalidArgumentError('scopeId', 'is required');
    const record = await this.store.get({ scopeId, actionId });
    if (!record) throw new ActionNotFoundError(actionId, scopeId);
    return record;
  }

  /**
   * Announces a final answer: the event now, and the wake-up signal for waiters in other
   * processes sent in the background (signals are best effort; waiters also poll), so that the
   * answer's caller does not wait a round trip for it.
   */
  private async finished(record: ActionRecord, event: ActionEventType, signalled = false): Promise<void> {
    this.emit(event, record);
    if (signalled) return;
    let sent: Promise<void>;
    try {
      const { channel, signal } = this.finalSignal(record);
      sent = this.signals.publish(channel, signal);
    } catch (error) {
      this.onSignalError(error);
      return;
    }
    sent.catch((error: unknown) => this.onSignalError(error));
  }

  /** The wake-up of waiters for a final answer (`action.resolved` on the action's channel, whatever the outcome). */
  private finalSignal(record: ActionRecord): WriteSignal {
    return {
      channels: this.signals,
      channel: signalChannelName({ kind: 'action.resolved', scopeId: record.scopeId, subjectId: record.id }),
      signal: { schemaVersion: 1, kind: 'action.resolved', scopeId: record.scopeId, subjectId: record.id, at: this.now(), data: { status: record.status, jobId: record.jobId } },
    };
  }

  private emit(type: ActionEventType, record: ActionRecord): void {
    if (!this.onEvent) return;
    const { tokenHash: _hidden, ...action } = record;
    try {
      this.onEvent({ type, action, at: this.now() });
    } catch {
      // listeners never break the action flow
    }
  }

  private options() {
    return { types: this.actionTypes, defaultTimeoutSeconds: this.defaultTimeoutSeconds, maxTimeoutSeconds: this.maxTimeoutSeconds };
  }
}

function assertOpen(record: ActionRecord, now: number): void {
  switch (record.status) {
    case 'pending':
      if (now >= record.expiresAt) throw new ActionExpiredError(record.id, record.expiresAt);
      return;
    case 'expired':
    case 'escalated':
      throw new ActionExpiredError(record.id, record.expiresAt, record.escalatedToActionId);
    case 'cancelled':
      throw new ActionCancelledError(record.id);
    case 'resolved':
    case 'rejected':
      throw new ActionAlreadyResolvedError(record.id, record.status);
  }
}

function commentOf(resolution: unknown): string | undefined {
  if (typeof resolution !== 'object' || resolution === null) return undefined;
  const comment = (resolution as { comment?: unknown }).comment;
  return typeof comment === 'string' ? comment : undefined;
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(name, 'must be a positive number');
  return value;
}
