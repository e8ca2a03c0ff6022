/** Where a session stream stood in one of its jobs: the last seq delivered. */
export interface SessionCursorEntry {
  readonly jobId: string;
  readonly seq: number;
}

const MAX_ENTRIES = 64;
const MAX_LENGTH = 8_192;

/**
 * The SSE `id` of a session stream event: `<jobId>:<seq>` of the event itself, followed by
 * `,<jobId>:<seq>` for each other job of the session the stream is still following (the last seq
 * it delivered of each). Usually one entry: a session runs one job at a time; two while a
 * queued job waits behind a running one. Job ids are URI-encoded, so `:` and `,` never clash.
 */
export function encodeSessionCursor(entries: readonly SessionCursorEntry[]): string {
  return entries.map((e) => `${encodeURIComponent(e.jobId)}:${e.seq}`).join(',');
}

/** The entries of a session stream id, or `undefined` when it is not one. */
export function parseSessionCursor(text: string): SessionCursorEntry[] | undefined {
  if (text.length === 0 || text.length > MAX_LENGTH) return undefined;
  const parts = text.split(',');
  if (parts.length > MAX_ENTRIES) return undefined;
  const entries: SessionCursorEntry[] = [];
  for (const part of parts) {
    const colon = part.lastIndexOf(':');
    if (colon <= 0) return undefined;
    const seqText = part.slice(colon + 1);
    if (!/^\d{1,15}$/.test(seqText)) return undefined;
    let jobId: string;
    try {
      jobId = decodeURIComponent(part.slice(0, colon));
    } catch {
      return undefined;
    }
    if (jobId === '' || jobId.length > 256) return undefined;
    entries.push({ jobId, seq: Number(seqText) });
  }
  return entries;
}
