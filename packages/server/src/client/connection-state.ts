/**
 * Where a `BatonEventSource` is: `connecting` (first attempt), `open` (receiving),
 * `reconnecting` (lost the connection, waiting or trying again), `closed` (for good: `close()`
 * was called, the server said the stream is over with a 204, an error that retrying cannot fix,
 * or the retries ran out).
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** `detail` of the `statechange` event. */
export interface StateChange {
  readonly state: ConnectionState;
  readonly previous: ConnectionState;
  /** Reconnection attempts since the last successful open (0 on the first connection). */
  readonly attempt: number;
  /** With `reconnecting`: how long until the next attempt. */
  readonly delayMs?: number | undefined;
  /** What caused the change, if an error did. */
  readonly error?: unknown;
}

/** One message received. */
export interface BatonMessage {
  /** The SSE `id`, when the server sent one (a job stream: the event's seq). */
  readonly id: string | undefined;
  /** The SSE `event` (a runtime event type such as `model.delta`), `message` when absent. */
  readonly event: string;
  /** The raw `data` (JSON from a Baton server). */
  readonly data: string;
}
