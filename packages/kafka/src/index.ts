export { KafkaEventAdapter, type KafkaConfig, type KafkaEventAdapterStats, type KafkaRetryOptions } from './kafka-event-adapter.js';
export { KafkaEventConsumer, type KafkaEventConsumerOptions, type KafkaEventConsumerStats } from './kafka-event-consumer.js';
export type { KafkaConnectionOptions } from './kafka-connection.js';
export { EVENT_CATEGORIES, categoryOf, topicOf, topicsOf, type EventCategory } from './event-topics.js';
export { HEADERS as MESSAGE_HEADERS, fromMessage, toMessage } from './event-message.js';
export { CorruptKafkaMessageError, KafkaAdapterClosedError, KafkaSendError, isRetriableKafkaError } from './errors/index.js';
