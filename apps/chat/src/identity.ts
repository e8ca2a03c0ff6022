import { randomBytes } from 'node:crypto';
import type { Authenticate, Principal } from '@baton/server';

/** The cookie that names a visitor: 128 random bits, HttpOnly, same-site only. */
export const IDENTITY_COOKIE = 'baton_chat_id';

const ID_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;

/**
 * Each visitor is their own tenant: the random id in their cookie is their scope, so one visitor
 * cannot read, resolve or cancel another's jobs. The cookie travels with `fetch` and with the
 * browser's `EventSource` alike, which cannot set headers. (A real deployment would put its own
 * login behind `authenticate`; this is enough for a demo on one machine.)
 */
export const cookieIdentity: Authenticate = (request) => principalOf(request.headers.get('cookie'));

export function principalOf(cookieHeader: string | null | undefined): Principal | undefined {
  const id = readCookie(cookieHeader, IDENTITY_COOKIE);
  if (id === undefined || !ID_PATTERN.test(id)) return undefined;
  return { scopeId: `visitor-${id}`, principalId: `visitor-${id.slice(0, 6)}` };
}

/** A new visitor and the `Set-Cookie` value that hands their id to the browser. */
export function newIdentityCookie(): { principal: Principal; setCookie: string } {
  const id = randomBytes(16).toString('base64url');
  const setCookie = `${IDENTITY_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict`;
  return { principal: principalOf(setCookie)!, setCookie };
}

function readCookie(header: string | null | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
