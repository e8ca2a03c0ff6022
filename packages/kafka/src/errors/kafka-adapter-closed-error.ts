import { BatonError } from '@baton/llm-client';

/** A call after `close()`. Not retryable: build a new adapter or consumer. */
export class KafkaAdapterClosedError extends BatonError {
  override readonly name = 'KafkaAdapterClosedError';
  readonly code = 'kafka_adapter_closed';
  /** Which one (`KafkaEventAdapter`, `KafkaEventConsumer`). */
  readonly adapter: string;

  constructor(adapter: string) {
    super({ message: `${adapter} is closed` });
    this.adapter = adapter;
  }
}
