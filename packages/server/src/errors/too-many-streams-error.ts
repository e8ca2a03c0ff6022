import { BatonError } from '@baton/llm-client';

/** The scope already has `limits.maxStreamsPerScope` event streams open (HTTP 429). */
export class TooManyStreamsError extends BatonError {
  override readonly name = 'TooManyStreamsError';
  readonly code = 'too_many_streams';
  readonly limit: number;

  constructor(limit: number) {
    super({ message: `this scope already has ${limit} event streams open; close one first`, retryable: true });
    this.limit = limit;
  }
}
