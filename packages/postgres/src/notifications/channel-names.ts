import { createHash } from 'node:crypto';

/**
 * Postgres channel names are identifiers of at most 63 bytes, and `baton:<kind>:<scope>:<id>`
 * names are longer. A logical channel maps to `baton_<hash of schema and name>`: names of two
 * schemas never meet, and the payload carries the logical name so that a (harmless) hash
 * collision is filtered out by the receiver.
 */
export function physicalChannel(schema: string, logical: string): string {
  return `baton_${createHash('sha256').update(schema).update('\u0000').update(logical).digest('hex').slice(0, 48)}`;
}

/** Postgres refuses NOTIFY payloads of 8000 bytes or more. */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7999;
