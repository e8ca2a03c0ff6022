import { describe, expect, it } from 'vitest';
import { encodeSessionCursor, parseSessionCursor } from './session-cursor.js';

describe('session cursor', () => {
  it('round-trips, with ids that contain the separators', () => {
    const entries = [
      { jobId: 'job_1', seq: 12 },
      { jobId: 'odd:id,with separators', seq: 3 },
    ];
    const text = encodeSessionCursor(entries);
    expect(text).toBe('job_1:12,odd%3Aid%2Cwith%20separators:3');
    expect(parseSessionCursor(text)).toEqual(entries);
  });

  it('refuses what is not a cursor', () => {
    for (const bad of ['', '12', 'job:', ':3', 'job:x', 'job:-1', 'job:1,', '%E0%A4%A:1', `${'a'.repeat(300)}:1`, Array.from({ length: 65 }, (_, i) => `j${i}:1`).join(',')]) {
      expect(parseSessionCursor(bad), bad).toBeUndefined();
    }
  });
});
