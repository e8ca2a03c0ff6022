export {
  JOURNAL_ENTRY_SCHEMA_VERSION,
  JOURNAL_STEP_KINDS,
  JournalEntrySchema,
  parseJournalEntry,
  stepKey,
  type JournalEntry,
  type JournalEntryInput,
  type JournalStepKind,
} from './journal-entry.js';
export {
  DEFERRED_EVENT_SCHEMA_VERSION,
  DeferredEventInputSchema,
  DeferredEventSchema,
  SHARED_LOG_SCHEMA_VERSION,
  SharedLogRecordSchema,
  type DeferredEvent,
  type DeferredEventInput,
  type SharedLogRecord,
} from './journal-records.js';
export { InMemoryJournalStore, type InMemoryJournalStoreOptions } from './in-memory-journal-store.js';
