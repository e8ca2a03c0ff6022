import { RuntimeKernel, type RuntimeEvent } from '@baton/agent-runtime';
import { LossyEventBus, makeTestJobRecord } from '@baton/agent-runtime/testing';
import { describe, expect, it } from 'vitest';
import { ActionTokenVault } from '../actions/action-token-vault.js';
import type { EventChannel } from './event-channel.js';
import { pumpSessionEvents } from './session-event-stream.js';
import { FrameCache } from './sse-frame.js';

const scopeId = 'tenant-a';
const sessionId = 'chat';

function setup(listening?: Promise<void>) {
  const bus = new LossyEventBus({ listening });
  const kernel = RuntimeKernel.create({ stores: { ...RuntimeKernel.create().stores, events: bus } });
  const sent: Array<{ id: string | undefined; event: string; data: string }> = [];
  const abort = new AbortController();
  const channel: EventChannel = {
    signal: abort.signal,
    get closed() {
      return abort.signal.aborted;
    },
    message: (id, event, data) => void sent.push({ id, event, data }),
    writable: async () => !abort.signal.aborted,
    close: () => abort.abort(),
  };
  const deps = { kernel, tokens: new ActionTokenVault(), frames: new FrameCache(), onError: () => undefined };
  const pumping = pumpSessionEvents(deps, { scopeId, sessionId, cursor: undefined, maxBuffered: 100 }, channel);
  const job = async (createdAt: number) => (await kernel.stores.jobs.create(makeTestJobRecord({ scopeId, sessionId, status: 'running', createdAt }))).job;
  const delta = (jobId: string, text: string) => bus.publish({ type: 'model.delta', jobId, scopeId, sessionId, data: { model: 'm', textDelta: text } });
  const seen = () =>
    sent
      .filter((m) => m.id !== undefined)
      .map((m) => JSON.parse(m.data) as RuntimeEvent)
      .map((e) => `${e.jobId}:${e.seq}`);
  const stop = async () => {
    abort.abort();
    await pumping;
  };
  return { bus, sent, job, delta, seen, stop };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('session streams of jobs another process runs', () => {
  it('read the session only once the bus hears other processes: nothing published before that is lost', async () => {
    let listen!: () => void;
    const { job, delta, seen, stop } = setup(new Promise((r) => (listen = r)));
    const a = await job(1);
    await tick();
    await delta(a.id, 'x');
    await delta(a.id, 'y');
    listen();
    await tick(20);
    expect(seen()).toEqual([`${a.id}:1`, `${a.id}:2`]);
    await stop();
  });

  it('fill a hole in a job\'s seqs from its history instead of reporting a gap', async () => {
    const { bus, sent, job, delta, seen, stop } = setup();
    const a = await job(1);
    await tick();
    const events = [await delta(a.id, '1'), await delta(a.id, '2'), await delta(a.id, '3')];
    bus.deliver(events[0]!);
    await tick();
    bus.deliver(events[2]!);
    await tick(20);
    expect(seen()).toEqual([`${a.id}:1`, `${a.id}:2`, `${a.id}:3`]);
    expect(sent.some((m) => m.event === 'stream.gap')).toBe(false);
    await stop();
  });

  it('on onResync, continue each job after its last seq sent and pick up the session jobs created meanwhile', async () => {
    const { bus, job, delta, seen, stop } = setup();
    const a = await job(1);
    await tick();
    bus.deliver(await delta(a.id, '1'));
    await tick();
    // While the bus's connection was down: a's next event, and a new job of the session.
    await delta(a.id, '2');
    const b = await job(2);
    await delta(b.id, 'b1');
    await tick();
    expect(seen()).toEqual([`${a.id}:1`]);
    bus.resync();
    await tick(20);
    expect(seen()).toEqual([`${a.id}:1`, `${a.id}:2`, `${b.id}:1`]);
    await stop();
  });
});
