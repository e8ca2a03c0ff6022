import { BatonError } from '@baton/llm-client';

/** A Kafka message that is not a valid runtime event (not JSON, or not schema version 1). Skipped, reported to `onError`. */
export class CorruptKafkaMessageError extends BatonError {
  override readonly name = 'CorruptKafkaMessageError';
  readonly code = 'corrupt_kafka_message';
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;

  constructor(options: { topic: string; partition: number; offset: string; issue: string; cause?: unknown }) {
    super({ message: `Kafka message ${options.topic}[${options.partition}]@${options.offset} is not a runtime event: ${options.issue}`, cause: options.cause });
    this.topic = options.topic;
    this.partition = options.partition;
    this.offset = options.offset;
  }
}
