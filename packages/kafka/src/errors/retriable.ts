/** kafkajs errors that mean "the broker or the network, now": worth another attempt later. */
const TRANSIENT = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
]);

/**
 * Whether a send may succeed if tried again: a kafkajs error flagged `retriable`, or one of the
 * connection and timeout errors (kafkajs gives up on those after its own retries and flags
 * them not retriable, but a broker that comes back a minute later takes the write).
 */
export function isRetriableKafkaError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { retriable?: unknown; name?: unknown };
  if (e.retriable === true) return true;
  return typeof e.name === 'string' && TRANSIENT.has(e.name);
}
