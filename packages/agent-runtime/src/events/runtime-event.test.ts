import { describe, expect, it } from 'vitest';
import { CorruptRecordError } from '../errors/store-errors.js';
import { RUNTIME_EVENT_DATA_SCHEMAS } from './runtime-event-data.js';
import { isEventType, parseRuntimeEvent, type RuntimeEvent } from './runtime-event.js';
import { RUNTIME_EVENT_TYPES } from './runtime-event-type.js';

const stored = {
  schemaVersion: 1,
  id: 'e1',
  type: 'tool.failed',
  jobId: 'job-1',
  scopeId: 's',
  seq: 4,
  at: 1000,
  data: { toolName: 'search', error: { code: 'timeout', message: 'slow', retryable: true } },
};

describe('runtime events', () => {
  it('has a data schema for every event type', () => {
    expect(Object.keys(RUNTIME_EVENT_DATA_SCHEMAS).sort()).toEqual([...RUNTIME_EVENT_TYPES].sort());
  });

  it('parses a stored event and narrows it by type', () => {
    const event: RuntimeEvent = parseRuntimeEvent(stored);
    expect(event).toEqual(stored);
    expect(isEventType(event, 'tool.failed') && event.data.error.code).toBe('timeout');
    expect(isEventType(event, 'tool.completed')).toBe(false);
  });

  it('names the job, seq and field of a corrupt event', () => {
    const error = (() => {
      try {
        parseRuntimeEvent({ ...stored, data: { toolName: 'search' } });
      } catch (e) {
        return e;
      }
      return undefined;
    })() as CorruptRecordError;
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect(error).toMatchObject({ recordType: 'event', recordId: 'job-1#4', jobId: 'job-1' });
    expect(error.message).toContain('data.error');
    expect(() => parseRuntimeEvent({ ...stored, type: 'tool.exploded' })).toThrow(CorruptRecordError);
    expect(() => parseRuntimeEvent({ ...stored, schemaVersion: 2 })).toThrow(/unknown schema version 2/);
    expect(() => parseRuntimeEvent('garbage')).toThrow(/expected an object/);
  });
});
