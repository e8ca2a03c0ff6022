import { InvalidArgumentError } from '@baton/llm-client';
import type { Authenticate } from './principal.js';

export interface TrustHeaderAuthOptions {
  /** Header naming the scope; default `x-baton-scope`. */
  scopeHeader?: string;
  /** Header naming the principal; default `x-baton-principal`. */
  principalHeader?: string;
}

const MAX_ID_LENGTH = 256;

/**
 * **Development only.** Believes whatever scope and principal the request's headers claim
 * (`x-baton-scope`, `x-baton-principal`), so any caller can act as any tenant. Use it in tests
 * and local demos; in production pass an `authenticate` that verifies a credential.
 */
export function trustHeaderAuth(options: TrustHeaderAuthOptions = {}): Authenticate {
  const scopeHeader = headerName(options.scopeHeader ?? 'x-baton-scope', 'scopeHeader');
  const principalHeader = headerName(options.principalHeader ?? 'x-baton-principal', 'principalHeader');
  return (request) => {
    const scopeId = request.headers.get(scopeHeader)?.trim();
    const principalId = request.headers.get(principalHeader)?.trim();
    if (!scopeId || !principalId || scopeId.length > MAX_ID_LENGTH || principalId.length > MAX_ID_LENGTH) return undefined;
    return { scopeId, principalId };
  };
}

function headerName(value: string, name: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9-]+$/.test(value)) throw new InvalidArgumentError(name, 'must be an HTTP header name');
  return value.toLowerCase();
}
