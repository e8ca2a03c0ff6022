import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Signal, SignalChannel } from '../ports/signal-channel.js';

export interface SignalChannelContractInit {
  store: SignalChannel;
  cleanup?: () => Promise<void>;
}

/** Polls `condition` until it holds or `timeoutMs` passes (delivery may cross a network). */
async function eventually(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function signal(overrides: Partial<Signal> = {}): Signal {
  return { schemaVersion: 1, kind: 'action.resolved', scopeId: 'scope-a', subjectId: `act_${randomUUID()}`, at: Date.now(), ...overrides };
}

/**
 * The conformance suite every `SignalChannel` runs: delivery of the payload as sent, channel
 * isolation, fan-out, order per publisher, unsubscribe, and isolation of failing handlers.
 */
export function describeSignalChannelContract(init: () => Promise<SignalChannelContractInit>, options: { name?: string } = {}): void {
  describe(`SignalChannel contract${options.name ? `: ${options.name}` : ''}`, () => {
    let ctx: SignalChannelContractInit;
    let channels: SignalChannel;
    const prefix = () => `test:${randomUUID()}`;
    beforeEach(async () => {
      ctx = await init();
      channels = ctx.store;
    });
    afterEach(async () => {
      await ctx.cleanup?.();
    });

    it('delivers a published signal, equal to what was sent', async () => {
      const name = prefix();
      const got: Signal[] = [];
      const unsubscribe = await channels.subscribe(name, (s) => void got.push(s));
      const sent = signal({ data: { status: 'resolved', count: 2, nested: { ok: true } } });
      await channels.publish(name, sent);
      await eventually(() => got.length === 1);
      expect(got[0]).toEqual(sent);
      await unsubscribe();
    });

    it('delivers only to subscribers of that channel, and to each of them', async () => {
      const a = prefix();
      const b = prefix();
      const gotA1: Signal[] = [];
      const gotA2: Signal[] = [];
      const gotB: Signal[] = [];
      const subs = await Promise.all([
        channels.subscribe(a, (s) => void gotA1.push(s)),
        channels.subscribe(a, (s) => void gotA2.push(s)),
        channels.subscribe(b, (s) => void gotB.push(s)),
      ]);
      await channels.publish(a, signal({ kind: 'job.cancelled', subjectId: 'job-1' }));
      await channels.publish(b, signal({ kind: 'job.enqueued', subjectId: 'marker' }));
      await eventually(() => gotA1.length === 1 && gotA2.length === 1 && gotB.length === 1);
      expect(gotB.map((s) => s.subjectId)).toEqual(['marker']);
      expect(gotA1[0]?.kind).toBe('job.cancelled');
      for (const unsubscribe of subs) await unsubscribe();
    });

    it("keeps one publisher's signals in order", async () => {
      const name = prefix();
      const got: string[] = [];
      const unsubscribe = await channels.subscribe(name, (s) => void got.push(s.subjectId));
      const ids = ['s1', 's2', 's3', 's4', 's5'];
      for (const id of ids) await channels.publish(name, signal({ subjectId: id, kind: 'job.interrupted' }));
      await eventually(() => got.length === ids.length);
      expect(got).toEqual(ids);
      await unsubscribe();
    });

    it('stops delivering after unsubscribe, and unsubscribing twice is harmless', async () => {
      const name = prefix();
      const gone: Signal[] = [];
      const kept: Signal[] = [];
      const unsubscribeGone = await channels.subscribe(name, (s) => void gone.push(s));
      const unsubscribeKept = await channels.subscribe(name, (s) => void kept.push(s));
      await unsubscribeGone();
      await unsubscribeGone();
      await channels.publish(name, signal());
      await eventually(() => kept.length === 1);
      expect(gone).toEqual([]);
      await unsubscribeKept();
    });

    it('isolates a handler that throws from the other subscribers', async () => {
      const name = prefix();
      const got: Signal[] = [];
      const unsubscribeBad = await channels.subscribe(name, () => {
        throw new Error('handler failure');
      });
      const unsubscribeRejecting = await channels.subscribe(name, async () => {
        throw new Error('async handler failure');
      });
      const unsubscribeGood = await channels.subscribe(name, (s) => void got.push(s));
      await channels.publish(name, signal());
      await channels.publish(name, signal());
      await eventually(() => got.length === 2);
      expect(got).toHaveLength(2);
      for (const u of [unsubscribeBad, unsubscribeRejecting, unsubscribeGood]) await u();
    });

    it('publishing to a channel nobody listens to succeeds', async () => {
      await expect(channels.publish(prefix(), signal())).resolves.toBeUndefined();
    });
  });
}
