import type { RuntimeKernel } from '@baton/agent-runtime';
import { InvalidArgumentError } from '@baton/llm-client';
import type { ActionRequiredInfo, ActionTokenVault } from '../actions/action-token-vault.js';
import type { Authenticate } from '../auth/principal.js';
import type { BeforeExecute } from './route-context.js';

export interface BatonServerLimits {
  /** Largest request body accepted; larger is a 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Event streams (job and session) one scope may hold open at once; more is a 429. Default 100. */
  maxStreamsPerScope?: number;
  /** Events held for one slow stream before it ends with `stream.error` (the client resumes). Default 10,000. */
  maxBufferedEvents?: number;
}

export interface BatonServerSseOptions {
  /** A `: heartbeat` comment is sent this often on every open stream. Default 15,000 ms. */
  heartbeatIntervalMs?: number;
  /** When set, sent as the `retry:` field: a browser `EventSource`'s reconnection delay. */
  retryMs?: number;
}

export interface BatonServerWsOptions {
  /** `{ "type": "ping" }` is sent this often; no `pong` within two intervals closes the socket. Default 15,000 ms. */
  heartbeatIntervalMs?: number;
  /** Without `?lastEventId=`, how long the socket waits for a first `resume` message before starting a new stream. Default 1,000 ms. */
  resumeWaitMs?: number;
}

export interface BatonServerOptions {
  /**
   * The kernel to serve, or a function that creates it with the server's hooks, so that the
   * server receives the resume tokens of the actions its jobs create:
   * `kernel: (hooks) => RuntimeKernel.create({ ...options, ...hooks })`. When you pass a kernel
   * instance, create it with `onActionRequired: vault.onActionRequired` and pass the same
   * `actionTokens: vault`, or clients never see resume tokens.
   */
  kernel: RuntimeKernel | ((hooks: { onActionRequired: (info: ActionRequiredInfo) => void }) => RuntimeKernel);
  /** Who a request is from; `undefined` refuses it with a 401. Required. */
  authenticate: Authenticate;
  /** Prefix of every route, e.g. `/baton`. Default none. */
  basePath?: string;
  limits?: BatonServerLimits;
  sse?: BatonServerSseOptions;
  /** The WebSocket endpoint `/ws/sessions/:id`. */
  ws?: BatonServerWsOptions;
  /** Where resume tokens are kept for their scope's clients; default a new `ActionTokenVault`. */
  actionTokens?: ActionTokenVault;
  /** Adjusts or refuses (by throwing a `BatonError`) each request before the kernel runs it. */
  beforeExecute?: BeforeExecute;
  /** Unexpected errors (a 500, a stream that failed); default: ignored. */
  onError?: (error: unknown) => void;
}

export interface ResolvedServerOptions {
  readonly basePath: string | undefined;
  readonly maxBodyBytes: number;
  readonly maxStreamsPerScope: number;
  readonly maxBufferedEvents: number;
  readonly heartbeatIntervalMs: number;
  readonly retryMs: number | undefined;
  readonly wsHeartbeatIntervalMs: number;
  readonly wsResumeWaitMs: number;
}

/** Applies defaults and refuses invalid values with `InvalidArgumentError`. */
export function resolveServerOptions(options: BatonServerOptions): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'an options object is required');
  if (typeof options.authenticate !== 'function') throw new InvalidArgumentError('authenticate', 'is required: (request) => { scopeId, principalId } | undefined');
  if (options.kernel === undefined || options.kernel === null) throw new InvalidArgumentError('kernel', 'is required');
  const basePath = options.basePath;
  if (basePath !== undefined && (typeof basePath !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(basePath) || basePath.endsWith('/'))) {
    throw new InvalidArgumentError('basePath', "must start with '/' and not end with one, e.g. '/baton'");
  }
  const limits = options.limits ?? {};
  const sse = options.sse ?? {};
  const ws = options.ws ?? {};
  return {
    basePath: basePath === '' ? undefined : basePath,
    maxBodyBytes: positiveInt(limits.maxBodyBytes ?? 1_048_576, 'limits.maxBodyBytes'),
    maxStreamsPerScope: positiveInt(limits.maxStreamsPerScope ?? 100, 'limits.maxStreamsPerScope'),
    maxBufferedEvents: positiveInt(limits.maxBufferedEvents ?? 10_000, 'limits.maxBufferedEvents'),
    heartbeatIntervalMs: positiveInt(sse.heartbeatIntervalMs ?? 15_000, 'sse.heartbeatIntervalMs'),
    retryMs: sse.retryMs === undefined ? undefined : nonNegativeInt(sse.retryMs, 'sse.retryMs'),
    wsHeartbeatIntervalMs: positiveInt(ws.heartbeatIntervalMs ?? 15_000, 'ws.heartbeatIntervalMs'),
    wsResumeWaitMs: nonNegativeInt(ws.resumeWaitMs ?? 1_000, 'ws.resumeWaitMs'),
  };
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(name, 'must be a positive integer');
  return value;
}

function nonNegativeInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError(name, 'must be an integer ≥ 0');
  return value;
}
