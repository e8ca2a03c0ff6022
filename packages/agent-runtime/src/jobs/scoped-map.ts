/**
 * A map keyed by a scope and an id, as two levels of maps: a lookup hashes the caller's own
 * strings (their hashes cached) instead of a key string built, and hashed, on every call.
 */
export class ScopedMap<V> {
  readonly #scopes = new Map<string, Map<string, V>>();

  get(scopeId: string, id: string): V | undefined {
    return this.#scopes.get(scopeId)?.get(id);
  }

  set(scopeId: string, id: string, value: V): void {
    let ids = this.#scopes.get(scopeId);
    if (!ids) this.#scopes.set(scopeId, (ids = new Map()));
    ids.set(id, value);
  }

  delete(scopeId: string, id: string): boolean {
    const ids = this.#scopes.get(scopeId);
    if (!ids?.delete(id)) return false;
    if (ids.size === 0) this.#scopes.delete(scopeId);
    return true;
  }
}
