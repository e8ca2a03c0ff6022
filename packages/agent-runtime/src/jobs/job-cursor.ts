import { InvalidArgumentError } from '@baton/llm-client';

/** A position in a scope's jobs ordered by `createdAt`, then `id`. */
export interface JobCursorPosition {
  readonly createdAt: number;
  readonly id: string;
}

/** An opaque page cursor for `JobStore.list` (base64url JSON of the last job's position). */
export function encodeJobCursor(position: JobCursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

/** Decodes `encodeJobCursor`'s output; anything else → `InvalidArgumentError`. */
export function decodeJobCursor(cursor: string): JobCursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'number' || typeof parsed[1] !== 'string') {
    throw new InvalidArgumentError('cursor', 'not a cursor returned by list()');
  }
  return { createdAt: parsed[0], id: parsed[1] };
}

/** Orders positions by `createdAt`, then `id`. */
export function compareJobPositions(a: JobCursorPosition, b: JobCursorPosition): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
