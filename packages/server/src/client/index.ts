export { BatonEventSource, BatonMessageEvent, type BatonEventSourceOptions } from './baton-event-source.js';
export type { ConnectionState, StateChange, BatonMessage } from './connection-state.js';
export { backoffDelayMs } from './backoff.js';
export { EventSourceError, EventSourceHttpError, HeartbeatTimeoutError, InvalidEventSourceOptionError, ReconnectFailedError } from './client-errors.js';
