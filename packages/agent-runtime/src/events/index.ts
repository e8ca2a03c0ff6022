export { RUNTIME_EVENT_TYPES, RuntimeEventTypeSchema, TERMINAL_JOB_EVENT_TYPES, type RuntimeEventType } from './runtime-event-type.js';
export { RUNTIME_EVENT_DATA_SCHEMAS, type RuntimeEventDataMap } from './runtime-event-data.js';
export {
  RUNTIME_EVENT_SCHEMA_VERSION,
  RuntimeEventBaseSchema,
  isEventType,
  parseRuntimeEvent,
  type RuntimeEvent,
  type RuntimeEventBase,
  type RuntimeEventInput,
} from './runtime-event.js';
export { InMemoryEventBus, type InMemoryEventBusOptions } from './in-memory-event-bus.js';
export { EventBatcher, type EventBatcherOptions, type EventBatcherStats, type EventBatchWrite, type EventBatchWriteResult } from './event-batcher.js';
