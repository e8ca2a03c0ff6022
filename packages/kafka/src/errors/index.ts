export { CorruptKafkaMessageError } from './corrupt-kafka-message-error.js';
export { KafkaAdapterClosedError } from './kafka-adapter-closed-error.js';
export { KafkaSendError } from './kafka-send-error.js';
export { isRetriableKafkaError } from './retriable.js';
