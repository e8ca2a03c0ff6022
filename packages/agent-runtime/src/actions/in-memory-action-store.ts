import { InvalidArgumentError } from '@baton/llm-client';
import { DuplicateActionError } from '../errors/action-errors.js';
import { ActionRecordSchema, ActionStore, parseActionRecord, type ActionRecord, type CompareAndSetResult } from '../ports/action-store.js';

/** A stored row: indexed columns next to the record, like the SQL adapters keep them. */
interface Row {
  scopeId: string;
  jobId: string;
  status: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  data: unknown;
}

/**
 * `ActionStore` in process memory, for tests and single-process use. Records are copied in and
 * out (callers never share objects with the store) and validated on every load, like a durable
 * store's rows.
 */
export class InMemoryActionStore extends ActionStore {
  private readonly rows = new Map<string, Row>();
  private readonly byTokenHash = new Map<string, string>();

  async create(record: ActionRecord): Promise<void> {
    const parsed = validateInput(record);
    if (parsed.version !== 1) throw new InvalidArgumentError('record.version', 'a new action starts at version 1');
    if (this.rows.has(parsed.id) || this.byTokenHash.has(parsed.tokenHash)) throw new DuplicateActionError(parsed.id);
    this.write(parsed);
  }

  async get(query: { scopeId: string; actionId: string }): Promise<ActionRecord | undefined> {
    const row = this.rows.get(query.actionId);
    if (!row || row.scopeId !== query.scopeId) return undefined;
    return load(row, query.actionId);
  }

  async getByTokenHash(query: { scopeId: string; tokenHash: string }): Promise<ActionRecord | undefined> {
    const id = this.byTokenHash.get(query.tokenHash);
    return id === undefined ? undefined : this.get({ scopeId: query.scopeId, actionId: id });
  }

  async compareAndSet(update: { record: ActionRecord; expectedVersion: number }): Promise<CompareAndSetResult> {
    const next = validateInput(update.record);
    // No await between the read and the write: this block is atomic on the event loop.
    const row = this.rows.get(next.id);
    if (!row || row.scopeId !== next.scopeId) return { ok: false, current: undefined };
    const current = load(row, next.id);
    if (current.version !== update.expectedVersion) return { ok: false, current };
    const stored: ActionRecord = { ...next, version: update.expectedVersion + 1 };
    if (stored.tokenHash !== current.tokenHash) {
      const holder = this.byTokenHash.get(stored.tokenHash);
      if (holder !== undefined && holder !== stored.id) throw new InvalidArgumentError('record.tokenHash', 'already used by another action');
      this.byTokenHash.delete(current.tokenHash);
    }
    this.write(stored);
    return { ok: true, record: structuredClone(stored) };
  }

  async listByJob(query: { scopeId: string; jobId: string }): Promise<ActionRecord[]> {
    return this.select((r) => r.scopeId === query.scopeId && r.jobId === query.jobId, byCreated, Number.POSITIVE_INFINITY);
  }

  async listPending(query: { scopeId: string; limit?: number }): Promise<ActionRecord[]> {
    return this.select((r) => r.scopeId === query.scopeId && r.status === 'pending', byCreated, limitOf(query.limit));
  }

  async listExpired(query: { now: number; scopeId?: string; limit?: number }): Promise<ActionRecord[]> {
    const { now, scopeId } = query;
    return this.select(
      (r) => r.status === 'pending' && r.expiresAt <= now && (scopeId === undefined || r.scopeId === scopeId),
      (a, b) => a[1].expiresAt - b[1].expiresAt || (a[0] < b[0] ? -1 : 1),
      limitOf(query.limit),
    );
  }

  /**
   * Test hook: replaces the stored record of `actionId` with `raw` as is (no validation), to
   * check how readers handle a corrupt row or an unknown schema version.
   */
  writeRawForTesting(actionId: string, raw: unknown): void {
    const row = this.rows.get(actionId);
    if (!row) throw new InvalidArgumentError('actionId', `no stored action '${actionId}'`);
    row.data = raw;
  }

  private write(record: ActionRecord): void {
    this.rows.set(record.id, {
      scopeId: record.scopeId,
      jobId: record.jobId,
      status: record.status,
      tokenHash: record.tokenHash,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      data: structuredClone(record),
    });
    this.byTokenHash.set(record.tokenHash, record.id);
  }

  private select(match: (row: Row) => boolean, order: (a: [string, Row], b: [string, Row]) => number, limit: number): ActionRecord[] {
    const hits = [...this.rows].filter(([, row]) => match(row)).sort(order);
    return hits.slice(0, limit).map(([id, row]) => load(row, id));
  }
}

function byCreated(a: [string, Row], b: [string, Row]): number {
  return a[1].createdAt - b[1].createdAt || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

function limitOf(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', 'must be a positive integer');
  return limit;
}

function load(row: Row, id: string): ActionRecord {
  return structuredClone(parseActionRecord(row.data, id));
}

function validateInput(record: ActionRecord): ActionRecord {
  const parsed = ActionRecordSchema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`record.${issue?.path.join('.') ?? ''}`, issue?.message ?? 'invalid action record');
  }
  return parsed.data;
}
