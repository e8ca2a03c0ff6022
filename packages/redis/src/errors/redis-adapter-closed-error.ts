import { BatonError } from '@baton/llm-client';

/** The adapter was used after its `close()`. Not retryable: build a new adapter. */
export class RedisAdapterClosedError extends BatonError {
  override readonly name = 'RedisAdapterClosedError';
  readonly code = 'redis_adapter_closed';
  /** Which adapter (`RedisActionStore`, …). */
  readonly adapter: string;
  constructor(adapter: string) {
    super({ message: `${adapter} is closed` });
    this.adapter = adapter;
  }
}
