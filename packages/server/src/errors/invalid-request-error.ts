import { BatonError } from '@baton/llm-client';

/** A request body, query or header does not parse (HTTP 400). `field` names the first bad one. */
export class InvalidRequestError extends BatonError {
  override readonly name = 'InvalidRequestError';
  readonly code: string;
  readonly field: string | undefined;

  constructor(options: { message: string; field?: string | undefined; code?: string; cause?: unknown }) {
    super({ message: options.message, cause: options.cause });
    this.code = options.code ?? 'invalid_request';
    this.field = options.field;
  }
}
