import { BatonError } from '@baton/llm-client';

/**
 * Events could not be written to Kafka after the adapter's retries (reported to `onError`, with
 * the events lost). `retryable` says whether the last error was a broker or network error.
 */
export class KafkaSendError extends BatonError {
  override readonly name = 'KafkaSendError';
  readonly code = 'kafka_send_failed';
  /** Events in the batch that was not written. */
  readonly events: number;
  /** Attempts made (1 + retries). */
  readonly attempts: number;

  constructor(options: { events: number; attempts: number; retryable: boolean; cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super({ message: `${options.events} event(s) not written to Kafka after ${options.attempts} attempt(s): ${reason}`, cause: options.cause, retryable: options.retryable });
    this.events = options.events;
    this.attempts = options.attempts;
  }
}
