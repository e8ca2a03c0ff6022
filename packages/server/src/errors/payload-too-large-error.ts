import { BatonError } from '@baton/llm-client';

/** A request body is larger than `limits.maxBodyBytes` (HTTP 413). */
export class PayloadTooLargeError extends BatonError {
  override readonly name = 'PayloadTooLargeError';
  readonly code = 'payload_too_large';
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    super({ message: `request body is larger than ${maxBytes} bytes` });
    this.maxBytes = maxBytes;
  }
}
