import { z } from 'zod';
import { JsonValueSchema } from '../jobs/json-value.js';
import { InvalidArgumentError } from '@baton/llm-client';

export const SIGNAL_SCHEMA_VERSION = 1;

/** What a signal announces. Signals are wake-ups: the store stays the source of truth. */
export const SIGNAL_KINDS = ['action.resolved', 'job.interrupted', 'job.cancelled', 'job.enqueued'] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

export const SignalSchema = z.object({
  schemaVersion: z.literal(SIGNAL_SCHEMA_VERSION),
  kind: z.enum(SIGNAL_KINDS),
  scopeId: z.string().min(1),
  /** The action id (action.*) or job id (job.*). */
  subjectId: z.string().min(1),
  /** Epoch milliseconds at which it was published. */
  at: z.number().int().nonnegative(),
  /** Small, non-secret extra facts (e.g. the final status). */
  data: z.record(z.string(), JsonValueSchema).optional(),
});
export type Signal = z.infer<typeof SignalSchema>;

export type SignalHandler = (signal: Signal) => void | Promise<void>;
export type Unsubscribe = () => Promise<void>;

/** Parses a received payload (throws `InvalidArgumentError` naming the field). Adapters use it on receipt. */
export function parseSignal(raw: unknown): Signal {
  const parsed = SignalSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`signal.${issue?.path.join('.') ?? ''}`, issue?.message ?? 'invalid signal');
  }
  return parsed.data;
}

/**
 * The conventional channel name for a signal: `baton:<kind>:<scope>[:<subject>]`, each part
 * URI-encoded so that ids containing ':' cannot collide. Waiters on one action subscribe to
 * `signalChannelName({ kind: 'action.resolved', scopeId, subjectId: actionId })`; workers that
 * pick up any enqueued job subscribe to `signalChannelName({ kind: 'job.enqueued' })`.
 */
export function signalChannelName(options: { kind: SignalKind; scopeId?: string; subjectId?: string }): string {
  const { kind, scopeId, subjectId } = options;
  if (subjectId !== undefined && scopeId === undefined) throw new InvalidArgumentError('scopeId', 'a subject channel needs its scope');
  let name = `baton:${kind}`;
  if (scopeId !== undefined) name += `:${encodeURIComponent(scopeId)}`;
  if (subjectId !== undefined) name += `:${encodeURIComponent(subjectId)}`;
  return name;
}

/**
 * Publish/subscribe of small wake-up signals between processes (Postgres LISTEN/NOTIFY, Redis
 * pub/sub, or in memory). Delivery is best effort and at most once: a subscriber that was not
 * subscribed when a signal was published does not get it, so waiters subscribe first, then read
 * the store, then wait (with a deadline).
 */
export abstract class SignalChannel {
  /** Sends `signal` to every current subscriber of `channel`. Resolves once it is handed over. */
  abstract publish(channel: string, signal: Signal): Promise<void>;

  /**
   * Calls `handler` for every signal published on `channel` from the moment the returned promise
   * resolves until the returned `Unsubscribe` is called (calling it twice is harmless). A handler
   * that throws does not affect other subscribers.
   */
  abstract subscribe(channel: string, handler: SignalHandler): Promise<Unsubscribe>;

  /** Releases connections; the default does nothing. */
  async close(): Promise<void> {}
}
