import { CorruptRecordError, parseRuntimeEvent, type RuntimeEvent } from '@baton/agent-runtime';
import type { KafkaMessage, Message } from 'kafkajs';
import { CorruptKafkaMessageError } from './errors/corrupt-kafka-message-error.js';

/** Header names set on every message (a consumer can route on them without parsing the value). */
export const HEADERS = {
  type: 'baton-event-type',
  scopeId: 'baton-scope-id',
  seq: 'baton-seq',
} as const;

/** An event as a Kafka message: keyed by job id (one partition per job: its order is kept), JSON value, event time. */
export function toMessage(event: RuntimeEvent): Message {
  return {
    key: event.jobId,
    value: JSON.stringify(event),
    timestamp: String(Math.trunc(event.at)),
    headers: { [HEADERS.type]: event.type, [HEADERS.scopeId]: event.scopeId, [HEADERS.seq]: String(event.seq) },
  };
}

/** The event in a Kafka message, validated with the runtime's parser; `CorruptKafkaMessageError` when it is not one. */
export function fromMessage(topic: string, partition: number, message: KafkaMessage): RuntimeEvent {
  const where = { topic, partition, offset: message.offset };
  if (message.value === null || message.value.length === 0) throw new CorruptKafkaMessageError({ ...where, issue: 'empty value' });
  let raw: unknown;
  try {
    raw = JSON.parse(message.value.toString('utf8'));
  } catch (error) {
    throw new CorruptKafkaMessageError({ ...where, issue: 'value is not JSON', cause: error });
  }
  try {
    return parseRuntimeEvent(raw);
  } catch (error) {
    const issue = error instanceof CorruptRecordError ? error.message : String(error);
    throw new CorruptKafkaMessageError({ ...where, issue, cause: error });
  }
}
