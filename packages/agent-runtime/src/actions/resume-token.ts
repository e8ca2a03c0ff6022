import { hash, randomBytes } from 'node:crypto';

/** 32 random bytes (256 bits), base64url: 43 characters. */
export function generateResumeToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of the token, hex. Only this is stored. */
export function hashResumeToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/** At least 128 bits in base64url (22 characters), at most 256 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,256}$/;

/** Whether `value` has the shape of a resume token (says nothing of its validity). */
export function isWellFormedResumeToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_PATTERN.test(value);
}
