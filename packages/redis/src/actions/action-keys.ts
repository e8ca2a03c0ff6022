import { keyPart } from '../connection/key-prefix.js';

/**
 * The keys of `RedisActionStore` under a prefix `P`:
 * - `P action:<id>`: the record, JSON (a string);
 * - `P action-token:<sha256>`: the id of the action whose token hashes to it;
 * - `P action-job:<scope>:<job>`: sorted set of a job's action ids by `createdAt`;
 * - `P action-pending:<scope>`: sorted set of the scope's pending ids by `createdAt`;
 * - `P action-expiry` and `P action-expiry:<scope>`: pending ids by `expiresAt`, every scope and one.
 * Ids and scopes are URI-encoded inside keys.
 */
export class ActionKeys {
  constructor(readonly prefix: string) {}
  record(actionId: string): string {
    return `${this.prefix}action:${keyPart(actionId)}`;
  }
  token(tokenHash: string): string {
    return `${this.prefix}action-token:${tokenHash}`;
  }
  job(scopeId: string, jobId: string): string {
    return `${this.prefix}action-job:${keyPart(scopeId)}:${keyPart(jobId)}`;
  }
  pending(scopeId: string): string {
    return `${this.prefix}action-pending:${keyPart(scopeId)}`;
  }
  expiry(): string {
    return `${this.prefix}action-expiry`;
  }
  scopeExpiry(scopeId: string): string {
    return `${this.prefix}action-expiry:${keyPart(scopeId)}`;
  }
}
