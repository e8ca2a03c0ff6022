import { BatonEventSource, type ConnectionState } from '@baton/server/client';

/** A runtime event as the session stream sends it (the fields the page reads). */
export interface FeedEvent {
  type: string;
  jobId: string;
  seq: number;
  at: number;
  data: Record<string, unknown>;
  /** On `action.required`, for the job's own scope: the token that answers the action. */
  resumeToken?: string;
}

/**
 * Follows every event of a chat session over Server-Sent Events. `BatonEventSource` reconnects
 * on its own and resumes after the last event it received, so a dropped connection loses nothing.
 */
export function followSession(sessionId: string, onEvent: (event: FeedEvent) => void, onState: (state: ConnectionState) => void): () => void {
  const source = new BatonEventSource(`/api/sessions/${encodeURIComponent(sessionId)}/events`, {
    credentials: 'same-origin',
    retryBaseMs: 500,
    retryMaxMs: 5_000,
    heartbeatTimeoutMs: 30_000,
    maxRetries: 1_000,
  });
  source.onStateChange((change) => onState(change.state));
  source.on('*', (message) => {
    if (message.id === undefined) return; // stream.error / stream.gap: the source resumes by itself
    try {
      onEvent(JSON.parse(message.data) as FeedEvent);
    } catch {
      // not JSON: not a runtime event
    }
  });
  return () => source.close();
}
