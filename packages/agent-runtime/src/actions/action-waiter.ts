import { AbortError } from '@baton/llm-client';
import { ActionNotFoundError, ActionWaitTimeoutError } from '../errors/action-errors.js';
import type { ActionRecord, ActionStore } from '../ports/action-store.js';
import { signalChannelName, type SignalChannel } from '../ports/signal-channel.js';

export interface WaitUntilFinalOptions {
  store: ActionStore;
  signals: SignalChannel;
  now: () => number;
  /** Safety re-read of the store, in case a signal is lost. */
  pollIntervalMs: number;
  actionId: string;
  scopeId: string;
  /** Epoch ms. */
  deadline: number;
  abort?: AbortSignal | undefined;
}

/**
 * Waits until one action is no longer pending and returns it. Subscribes first, then reads the
 * store, so a resolution between the two is not missed; wakes on the `action.resolved` signal or
 * every `pollIntervalMs`; throws `ActionWaitTimeoutError` at the deadline and `AbortError` when
 * aborted. Always unsubscribes.
 */
export async function waitUntilFinal(options: WaitUntilFinalOptions): Promise<ActionRecord> {
  const { store, signals, now, pollIntervalMs, actionId, scopeId, deadline, abort } = options;
  if (abort?.aborted) throw new AbortError(abort.reason);
  let woken = false;
  let wake: (() => void) | undefined;
  const unsubscribe = await signals.subscribe(signalChannelName({ kind: 'action.resolved', scopeId, subjectId: actionId }), () => {
    woken = true;
    wake?.();
  });
  try {
    for (;;) {
      const record = await store.get({ scopeId, actionId });
      if (!record) throw new ActionNotFoundError(actionId, scopeId);
      if (record.status !== 'pending') return record;
      const remaining = deadline - now();
      if (remaining <= 0) throw new ActionWaitTimeoutError(actionId, deadline);
      if (abort?.aborted) throw new AbortError(abort.reason);
      await new Promise<void>((resolve, reject) => {
        if (woken) {
          woken = false;
          resolve();
          return;
        }
        const done = () => {
          clearTimeout(timer);
          abort?.removeEventListener('abort', onAbort);
          wake = undefined;
          woken = false;
        };
        const onAbort = () => {
          done();
          reject(new AbortError(abort?.reason));
        };
        const timer = setTimeout(() => {
          done();
          resolve();
        }, Math.min(remaining, pollIntervalMs));
        wake = () => {
          done();
          resolve();
        };
        abort?.addEventListener('abort', onAbort, { once: true });
      });
    }
  } finally {
    await unsubscribe();
  }
}
