import { BatonError } from '@baton/llm-client';

/** The request carries no credentials the server's `authenticate` hook accepts (HTTP 401). */
export class UnauthenticatedError extends BatonError {
  override readonly name = 'UnauthenticatedError';
  readonly code = 'unauthenticated';

  constructor(message = 'authentication required') {
    super({ message });
  }
}
