import { InvalidArgumentError } from '@baton/llm-client';

/** A position in a scope's jobs ordered by `createdAt`, then `id`. */
export interface JobPosition {
  readonly createdAt: number;
  readonly id: string;
}

/** An opaque page cursor: base64url JSON of the last job's position. */
export function encodeJobCursor(position: JobPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

/** Decodes `encodeJobCursor`'s output; anything else → `InvalidArgumentError`. */
export function decodeJobCursor(cursor: string): JobPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Number.isSafeInteger(parsed[0]) || typeof parsed[1] !== 'string') {
    throw new InvalidArgumentError('cursor', 'not a cursor returned by list()');
  }
  return { createdAt: parsed[0] as number, id: parsed[1] };
}
