/** Who makes a request: the tenant (`scopeId`) every record is scoped by, and the person or service in it. */
export interface Principal {
  readonly scopeId: string;
  readonly principalId: string;
}

/**
 * Decides who a request is from. Return `undefined` to refuse it (HTTP 401). Called once per
 * request, before the body is read; may be async (a session lookup, a JWT verification).
 */
export type Authenticate = (request: Request) => Principal | undefined | Promise<Principal | undefined>;
