import type { JobRef } from '../jobs/job-record.js';
import type { JournalEntry, JournalEntryInput } from '../journal/journal-entry.js';
import type { JournalStore } from '../ports/journal-store.js';

/**
 * Appends another job's entries to `to`'s journal, in order, keeping their step ids (so the
 * code finds them where it asks for them); seqs and keys are the new job's.
 */
export async function copyJournalEntries(store: JournalStore, to: JobRef, entries: readonly JournalEntry[]): Promise<void> {
  let seq = (await store.head(to)).nextSeq;
  for (const e of entries) {
    const input: JournalEntryInput = {
      jobId: to.jobId,
      scopeId: to.scopeId,
      stepId: e.stepId ?? String(e.seq),
      kind: e.kind,
      name: e.name,
      status: e.status,
      inputHash: e.inputHash,
      inputSummary: e.inputSummary,
      output: e.output,
      error: e.error,
      startedAt: e.startedAt,
      durationMs: e.durationMs,
    };
    await store.append(input, { expectedSeq: seq++ });
  }
}
