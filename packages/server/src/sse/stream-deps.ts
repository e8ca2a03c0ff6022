import type { RuntimeEvent, RuntimeKernel } from '@baton/agent-runtime';
import { BatonError } from '@baton/llm-client';
import type { ActionTokenVault } from '../actions/action-token-vault.js';
import type { EventChannel } from './event-channel.js';
import type { FrameCache } from './sse-frame.js';

/** What the stream pumps need from the server. */
export interface StreamDeps {
  readonly kernel: RuntimeKernel;
  readonly tokens: ActionTokenVault;
  readonly frames: FrameCache;
  readonly onError: (error: unknown) => void;
}

/**
 * The JSON of an event for its own scope's stream: `action.required` carries the action's
 * `resumeToken` when this server holds it (the stream was opened by that scope).
 */
export function eventJson(deps: StreamDeps, event: RuntimeEvent): string {
  if (event.type === 'action.required') {
    const resumeToken = deps.tokens.tokenFor({ actionId: event.data.actionId, jobId: event.jobId, scopeId: event.scopeId });
    if (resumeToken !== undefined) return JSON.stringify({ ...event, resumeToken });
  }
  return deps.frames.json(event);
}

/** Tells the client why the stream ends early (`stream.error`, no id); it may reconnect and resume. */
export function sendStreamError(channel: EventChannel, deps: StreamDeps, error: unknown): void {
  if (channel.closed) return;
  const body = BatonError.isInstance(error) ? { code: error.code, message: error.message, retryable: error.retryable } : { code: 'internal_error', message: 'internal error', retryable: true };
  if (!BatonError.isInstance(error)) deps.onError(error);
  channel.message(undefined, 'stream.error', JSON.stringify(body));
}
