/**
 * Where a stream pump writes: an SSE response or a WebSocket. A message is a runtime event with
 * the id a client resumes from, or a notice without id (`stream.gap`, `stream.error`).
 */
export interface EventChannel {
  /** Aborted when the client has gone or the channel was closed. */
  readonly signal: AbortSignal;
  readonly closed: boolean;
  /** `data` is JSON text. */
  message(id: string | undefined, event: string, data: string): void;
  /** Resolves `true` once the client has room for more, `false` if the channel closed. */
  writable(): Promise<boolean>;
  /** Ends the channel after what is already queued. Never touches a job. */
  close(): void;
}
