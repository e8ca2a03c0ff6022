import { InvalidArgumentError } from '@baton/llm-client';
import {
  ActionRecordSchema,
  ActionStore,
  CorruptActionRecordError,
  DuplicateActionError,
  parseActionRecord,
  type ActionRecord,
  type CompareAndSetResult,
} from '@baton/agent-runtime';
import { keyPrefixOf } from '../connection/key-prefix.js';
import { RedisConnection, type RedisConnectionOptions } from '../connection/redis-connection.js';
import { ActionKeys } from './action-keys.js';
import { COMPARE_AND_SET_ACTION, CREATE_ACTION } from './action-scripts.js';

export interface RedisActionStoreOptions extends RedisConnectionOptions {
  /**
   * Prepended to every key (default `baton:`). On Redis Cluster put a hash tag in it
   * (`{baton}:`): the create and compare-and-set scripts touch several keys at once.
   */
  readonly keyPrefix?: string | undefined;
}

const DEFAULT_LIMIT = 100;

/**
 * `ActionStore` on Redis. Each action is one JSON string, validated with the runtime's
 * `parseActionRecord` on every load (a record that does not parse is a
 * `CorruptActionRecordError` naming the action). A token-hash key finds an action by its resume
 * token; sorted sets index a job's actions, a scope's pending ones and pending ones by expiry.
 *
 * `create` and `compareAndSet` are Lua scripts, so a record and its indexes change together and
 * two concurrent compare-and-sets on one version cannot both win: the script replaces the record
 * only if its stored JSON is still the one the caller's version was read from. ioredis resends a
 * command whose reply was lost with its connection; a resent script that finds its own write in
 * place reports success, so a write is never reported lost because the connection dropped after
 * it applied (the price: two writers racing with byte-identical records both succeed, with the
 * same outcome).
 */
export class RedisActionStore extends ActionStore {
  readonly #connection: RedisConnection;
  readonly #keys: ActionKeys;

  constructor(options: RedisActionStoreOptions) {
    super();
    const prefix = keyPrefixOf(options?.keyPrefix);
    this.#connection = new RedisConnection('RedisActionStore', options);
    this.#keys = new ActionKeys(prefix);
  }

  override async create(record: ActionRecord): Promise<void> {
    const parsed = validateInput(record);
    if (parsed.version !== 1) throw new InvalidArgumentError('record.version', 'a new action starts at version 1');
    const k = this.#keys;
    const keys = [k.record(parsed.id), k.token(parsed.tokenHash), k.job(parsed.scopeId, parsed.jobId), k.pending(parsed.scopeId), k.expiry(), k.scopeExpiry(parsed.scopeId)];
    const args = [JSON.stringify(parsed), parsed.id, parsed.createdAt, parsed.expiresAt, parsed.status === 'pending' ? '1' : '0'];
    const created = await this.#connection.run('action-store.create', (client) => CREATE_ACTION.run(client, keys, args));
    if (created !== 1) throw new DuplicateActionError(parsed.id);
  }

  override async get(query: { scopeId: string; actionId: string }): Promise<ActionRecord | undefined> {
    const raw = await this.#connection.run('action-store.get', (client) => client.get(this.#keys.record(query.actionId)));
    if (raw === null) return undefined;
    const record = load(raw, query.actionId);
    return record.scopeId === query.scopeId ? record : undefined;
  }

  override async getByTokenHash(query: { scopeId: string; tokenHash: string }): Promise<ActionRecord | undefined> {
    const id = await this.#connection.run('action-store.getByTokenHash', (client) => client.get(this.#keys.token(query.tokenHash)));
    if (id === null) return undefined;
    const record = await this.get({ scopeId: query.scopeId, actionId: id });
    // The index is written with the record, so they agree; checked anyway, it costs nothing.
    return record?.tokenHash === query.tokenHash ? record : undefined;
  }

  override async compareAndSet(update: { record: ActionRecord; expectedVersion: number }): Promise<CompareAndSetResult> {
    const next = validateInput(update.record);
    const recordKey = this.#keys.record(next.id);
    const read = await this.#connection.run('action-store.compareAndSet', (client) => client.get(recordKey));
    if (read === null) return { ok: false, current: undefined };
    const current = load(read, next.id);
    if (current.scopeId !== next.scopeId) return { ok: false, current: undefined };
    if (current.version !== update.expectedVersion) return { ok: false, current };
    const json = JSON.stringify({ ...next, version: update.expectedVersion + 1 });
    const k = this.#keys;
    const keys = [
      recordKey,
      k.token(current.tokenHash),
      k.token(next.tokenHash),
      k.job(current.scopeId, current.jobId),
      k.job(next.scopeId, next.jobId),
      k.pending(next.scopeId),
      k.expiry(),
      k.scopeExpiry(next.scopeId),
    ];
    const args = [read, json, next.id, next.createdAt, next.expiresAt, next.status === 'pending' ? '1' : '0'];
    const reply = await this.#connection.run('action-store.compareAndSet', (client) => COMPARE_AND_SET_ACTION.run(client, keys, args));
    const [outcome, now] = Array.isArray(reply) ? (reply as [number, string | undefined]) : [0, undefined];
    if (outcome === 1) return { ok: true, record: JSON.parse(json) as ActionRecord };
    if (outcome === -1) throw new InvalidArgumentError('record.tokenHash', 'already used by another action');
    // Lost the race between our read and the script: report the record as it is now.
    if (typeof now !== 'string') return { ok: false, current: undefined };
    const latest = load(now, next.id);
    return { ok: false, current: latest.scopeId === next.scopeId ? latest : undefined };
  }

  override async listByJob(query: { scopeId: string; jobId: string }): Promise<ActionRecord[]> {
    const ids = await this.#connection.run('action-store.listByJob', (client) => client.zrange(this.#keys.job(query.scopeId, query.jobId), '0', '-1'));
    return this.#loadMany(ids, query.scopeId, 'action-store.listByJob');
  }

  override async listPending(query: { scopeId: string; limit?: number }): Promise<ActionRecord[]> {
    const limit = limitOf(query.limit);
    const ids = await this.#connection.run('action-store.listPending', (client) => client.zrange(this.#keys.pending(query.scopeId), '0', String(limit - 1)));
    return this.#loadMany(ids, query.scopeId, 'action-store.listPending');
  }

  override async listExpired(query: { now: number; scopeId?: string; limit?: number }): Promise<ActionRecord[]> {
    if (typeof query.now !== 'number' || !Number.isFinite(query.now)) throw new InvalidArgumentError('now', 'must be a finite number (epoch ms)');
    const limit = limitOf(query.limit);
    const key = query.scopeId === undefined ? this.#keys.expiry() : this.#keys.scopeExpiry(query.scopeId);
    const ids = await this.#connection.run('action-store.listExpired', (client) => client.zrangebyscore(key, '-inf', query.now, 'LIMIT', 0, limit));
    return this.#loadMany(ids, query.scopeId, 'action-store.listExpired');
  }

  /** Closes the connection when it was opened from a URL; a borrowed client stays open. */
  override async close(): Promise<void> {
    await this.#connection.close();
  }

  /** The key holding the action's JSON (for operators and tests). */
  recordKey(actionId: string): string {
    return this.#keys.record(actionId);
  }

  async #loadMany(ids: string[], scopeId: string | undefined, operation: string): Promise<ActionRecord[]> {
    if (ids.length === 0) return [];
    const raws = await this.#connection.run(operation, (client) => client.mget(ids.map((id) => this.#keys.record(id))));
    const out: ActionRecord[] = [];
    raws.forEach((raw, i) => {
      if (raw === null) return;
      const record = load(raw, ids[i] as string);
      if (scopeId === undefined || record.scopeId === scopeId) out.push(record);
    });
    return out;
  }
}

function load(raw: string, actionId: string): ActionRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new CorruptActionRecordError(actionId, `not valid JSON (${(error as Error).message})`, error);
  }
  return parseActionRecord(value, actionId);
}

function limitOf(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', 'must be a positive integer');
  return limit;
}

function validateInput(record: ActionRecord): ActionRecord {
  const parsed = ActionRecordSchema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`record.${issue?.path.join('.') ?? ''}`, issue?.message ?? 'invalid action record');
  }
  return parsed.data;
}
