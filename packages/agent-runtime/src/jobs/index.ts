export { JOB_STATUSES, JOB_TRANSITIONS, JobStatusSchema, assertTransition, canTransition, isTerminalJobStatus, type JobStatus } from './job-status.js';
export { JOB_PRIORITIES, JobPrioritySchema, jobPriorityRank, type JobPriority } from './job-priority.js';
export {
  JOB_RECORD_SCHEMA_VERSION,
  JobRecordSchema,
  JobStateChangeSchema,
  parseJobRecord,
  type JobRecord,
  type JobRef,
  type JobStateChange,
} from './job-record.js';
export { JobSpecSchema, type JobSpec } from './job-spec.js';
export { JsonObjectSchema, JsonValueSchema, type JsonObject, type JsonValue } from './json-value.js';
export { SerializedErrorSchema, serializeError, type SerializedError } from './serialized-error.js';
export { isJsonValue } from './json-value.js';
export { parseStoredRecord } from './stored-record.js';
export { compareJobPositions, decodeJobCursor, encodeJobCursor, type JobCursorPosition } from './job-cursor.js';
export { InMemoryJobStore } from './in-memory-job-store.js';
export { InMemoryJobQueue, type InMemoryJobQueueOptions } from './in-memory-job-queue.js';
export { JobManager, type JobManagerOptions, type TransitionOptions } from './job-manager.js';
