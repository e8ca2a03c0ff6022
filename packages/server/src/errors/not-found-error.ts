import { BatonError } from '@baton/llm-client';

/**
 * What was asked for does not exist in the caller's scope (HTTP 404). Another scope's job is
 * reported exactly like a job that does not exist.
 */
export class NotFoundError extends BatonError {
  override readonly name = 'NotFoundError';
  readonly code: string;

  constructor(what: 'job' | 'route', id?: string) {
    super({ message: id === undefined ? `${what} not found` : `${what} '${id}' not found` });
    this.code = `${what}_not_found`;
  }
}
