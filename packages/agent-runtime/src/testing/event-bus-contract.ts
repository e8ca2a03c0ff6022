import { BatonError } from '@baton/llm-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptRecordError } from '../errors/store-errors.js';
import type { RuntimeEvent, RuntimeEventInput } from '../events/runtime-event.js';
import type { EventBus } from '../ports/event-bus.js';

/** What a backend hands the event bus suite for one test. */
export interface EventBusContractHarness {
  readonly bus: EventBus;
  readonly cleanup?: (() => Promise<void> | void) | undefined;
  /** Overwrites the stored event `seq` of a job with `raw` as is, bypassing validation. */
  readonly corrupt: (options: { jobId: string; scopeId: string; seq: number; raw: unknown }) => Promise<void> | void;
  /** Resolves once events published so far have reached the bus's live subscribers (default: a few macrotasks). */
  readonly settle?: (() => Promise<void>) | undefined;
}

export type EventBusContractInit = () => Promise<EventBusContractHarness> | EventBusContractHarness;

let counter = 0;
const unique = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function rejects(promise: Promise<unknown>, code: string): Promise<BatonError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(BatonError.isInstance(error), `expected a BatonError with code '${code}', got ${String(error)}`).toBe(true);
  expect((error as BatonError).code).toBe(code);
  return error as BatonError;
}

/**
 * The behaviour every `EventBus` must have: per-job monotonic seqs (also under concurrent
 * publishes), replay from a seq, filtered subscriptions that never break publish, a stream
 * that replays then follows with no gap and no duplicate, scope isolation, validation at publish
 * (an event the bus could not read back is refused with `InvalidArgumentError` before anything of
 * it, or of its `publishMany` batch, is stored or delivered) and typed errors for corrupt stored
 * events. Each test uses fresh scope and job ids.
 */
export function describeEventBusContract(init: EventBusContractInit, options: { name?: string } = {}): void {
  describe(options.name ?? 'EventBus contract', () => {
    let h: EventBusContractHarness;
    let bus: EventBus;
    let scopeId: string;
    let jobId: string;
    const settle = async (): Promise<void> => {
      if (h.settle) return h.settle();
      for (let i = 0; i < 3; i++) await tick();
    };
    const delta = (text: string, over: Partial<{ jobId: string; scopeId: string; sessionId: string }> = {}): RuntimeEventInput<'model.delta'> => ({
      type: 'model.delta',
      jobId,
      scopeId,
      ...over,
      data: { model: 'm', textDelta: text },
    });
    const collect = (into: RuntimeEvent[]) => (e: RuntimeEvent) => void into.push(e);

    beforeEach(async () => {
      h = await init();
      bus = h.bus;
      scopeId = unique('scope');
      jobId = unique('job');
    });
    afterEach(async () => {
      await h.cleanup?.();
    });

    describe('publish and replay', () => {
      it('publishMany keeps order and seqs, after earlier publishes, and delivers each event once', async () => {
        const seen: RuntimeEvent[] = [];
        const off = bus.subscribe(collect(seen), { jobId, scopeId });
        await bus.publish(delta('a'));
        const batch = await bus.publishMany([delta('b'), delta('c'), delta('d')]);
        const mixed = await bus.publishMany([delta('e'), delta('x', { jobId: unique('job') })]);
        expect(batch.map((e) => [e.seq, (e.data as { textDelta: string }).textDelta])).toEqual([[2, 'b'], [3, 'c'], [4, 'd']]);
        expect(mixed[0]).toMatchObject({ seq: 5 });
        expect(mixed[1]).toMatchObject({ seq: 1 });
        const replayed = await bus.replay({ jobId, scopeId });
        expect(replayed.map((e) => (e.data as { textDelta: string }).textDelta)).toEqual(['a', 'b', 'c', 'd', 'e']);
        await settle();
        expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
        off();
      });

      it('assigns per-job seqs from 1, an id and a time', async () => {
        const first = await bus.publish({ type: 'job.created', jobId, scopeId, sessionId: 's1', data: { status: 'queued', priority: 'normal', principalId: 'u' } });
        const second = await bus.publish(delta('a'));
        const otherJob = await bus.publish(delta('b', { jobId: unique('job') }));
        expect(first).toMatchObject({ schemaVersion: 1, type: 'job.created', jobId, scopeId, sessionId: 's1', seq: 1 });
        expect(typeof first.id).toBe('string');
        expect(first.id).not.toBe(second.id);
        expect(typeof first.at).toBe('number');
        expect(second.seq).toBe(2);
        expect(otherJob.seq).toBe(1);
        expect(await bus.replay({ jobId, scopeId })).toEqual([first, second]);
      });

      it('keeps the id and time a publisher gives', async () => {
        const e = await bus.publish({ ...delta('x'), id: 'evt-1', at: 1234 });
        expect(e).toMatchObject({ id: 'evt-1', at: 1234 });
      });

      it('gives concurrent publishes distinct, gapless seqs', async () => {
        const published = await Promise.all(Array.from({ length: 40 }, (_, i) => bus.publish(delta(String(i)))));
        expect(published.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        const replayed = await bus.replay({ jobId, scopeId });
        expect(replayed.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        expect(new Set(replayed.map((e) => e.id)).size).toBe(40);
      });

      it('replays from a seq, with a limit', async () => {
        for (let i = 0; i < 5; i++) await bus.publish(delta(String(i)));
        expect((await bus.replay({ jobId, scopeId, fromSeq: 3 })).map((e) => e.seq)).toEqual([3, 4, 5]);
        expect((await bus.replay({ jobId, scopeId, fromSeq: 2, limit: 2 })).map((e) => e.seq)).toEqual([2, 3]);
        expect(await bus.replay({ jobId, scopeId, fromSeq: 6 })).toEqual([]);
      });

      it("never replays another scope's events", async () => {
        await bus.publish(delta('secret'));
        expect(await bus.replay({ jobId, scopeId: unique('scope') })).toEqual([]);
      });

      it('stores a copy: changing the published data later changes nothing', async () => {
        const input = { type: 'model.delta' as const, jobId, scopeId, data: { model: 'm', textDelta: 'kept' } };
        await bus.publish(input);
        input.data.textDelta = 'changed';
        expect((await bus.replay({ jobId, scopeId }))[0]?.data).toEqual({ model: 'm', textDelta: 'kept' });
      });

      it('rejects an event of unknown type or without a job', async () => {
        await rejects(bus.publish({ ...delta('x'), type: 'job.exploded' } as never), 'invalid_argument');
        await rejects(bus.publish({ ...delta('x'), jobId: '' }), 'invalid_argument');
        expect(await bus.replay({ jobId, scopeId })).toEqual([]);
      });

      it('refuses at publish what it could not read back (InvalidArgumentError), storing and delivering nothing and using no seq', async () => {
        const seen: RuntimeEvent[] = [];
        const off = bus.subscribe(collect(seen), { scopeId });
        const bad: [RuntimeEventInput, string][] = [
          // Data that does not match its type's schema, and a bad envelope: the parser refuses them.
          [{ ...delta('x'), data: { model: 'm', textDelta: 7 } } as never, 'event'],
          [{ type: 'job.created', jobId, scopeId, data: { status: 'queued', priority: 'normal' } } as never, 'event'],
          [{ type: 'step.completed', jobId, scopeId, data: { seq: -1, key: 'k', kind: 'model', name: 'm', durationMs: 1 } }, 'event'],
          [{ ...delta('x'), id: '' }, 'event'],
          [{ ...delta('x'), at: -1 }, 'event'],
          [{ ...delta('x'), at: Number.NaN }, 'event'],
          [{ ...delta('x'), at: Number.POSITIVE_INFINITY }, 'event'],
          [{ ...delta('x'), sessionId: '' }, 'event'],
          [{ ...delta('x'), traceId: 5 } as never, 'event'],
          // A BigInt in the envelope (JSON has none).
          [{ ...delta('x'), at: 5n } as never, 'event'],
          [{ ...delta('x'), id: 5n } as never, 'event'],
          // Data that is not a JSON object.
          [{ ...delta('x'), data: null } as never, 'event.data'],
          [{ ...delta('x'), data: ['a'] } as never, 'event.data'],
          [{ ...delta('x'), data: { model: 'm', textDelta: 'x', n: Number.POSITIVE_INFINITY } } as never, 'event.data.n'],
          [{ ...delta('x'), data: { model: 'm', textDelta: 'x', when: new Date(0) } } as never, 'event.data.when'],
        ];
        for (const [input, argument] of bad) {
          const error = await rejects(bus.publish(input), 'invalid_argument');
          expect(error, JSON.stringify(input, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toMatchObject({ argument });
        }
        expect(await bus.replay({ jobId, scopeId })).toEqual([]);
        expect((await bus.publish(delta('ok'))).seq).toBe(1);
        await settle();
        off();
        expect(seen.map((e) => e.seq)).toEqual([1]);
      });

      it('stores and delivers an event as its type defines it: a data key the type does not define is dropped, the same for the publisher, subscribers and replay', async () => {
        const seen: RuntimeEvent[] = [];
        const off = bus.subscribe(collect(seen), { scopeId });
        const published = await bus.publish({ ...delta('x'), data: { model: 'm', textDelta: 'x', extra: 'not in the schema' } } as never);
        expect(published.data).toEqual({ model: 'm', textDelta: 'x' });
        await settle();
        off();
        expect(seen).toEqual([published]);
        expect(await bus.replay({ jobId, scopeId })).toEqual([published]);
      });

      it('publishMany refuses a batch with an invalid event anywhere: none of it is stored or delivered', async () => {
        const seen: RuntimeEvent[] = [];
        const off = bus.subscribe(collect(seen), { scopeId });
        const otherJob = unique('job');
        await bus.publish(delta('before'));
        const bad = { ...delta('bad'), data: { model: 'm', textDelta: 7 } } as never;
        const oneJob = await rejects(bus.publishMany([delta('a'), bad, delta('c')]), 'invalid_argument');
        expect(oneJob).toMatchObject({ argument: 'event' });
        await rejects(bus.publishMany([delta('a'), delta('b', { jobId: otherJob }), delta('c'), bad]), 'invalid_argument');
        await rejects(bus.publishMany([delta('a'), { ...delta('b', { jobId: otherJob }), data: { model: 'm', textDelta: 'b', n: Number.NaN } } as never]), 'invalid_argument');
        expect((await bus.replay({ jobId, scopeId })).map((e) => e.seq)).toEqual([1]);
        expect(await bus.replay({ jobId: otherJob, scopeId })).toEqual([]);
        const after = await bus.publishMany([delta('after'), delta('first', { jobId: otherJob })]);
        expect(after.map((e) => [e.jobId, e.seq])).toEqual([
          [jobId, 2],
          [otherJob, 1],
        ]);
        await settle();
        off();
        expect(seen.map((e) => (e.data as { textDelta: string }).textDelta)).toEqual(['before', 'after', 'first']);
      });
    });

    describe('subscribe', () => {
      it('delivers matching events in seq order', async () => {
        const got: RuntimeEvent[] = [];
        const stop = bus.subscribe(collect(got), { jobId, scopeId });
        await Promise.all(Array.from({ length: 20 }, (_, i) => bus.publish(delta(String(i)))));
        await settle();
        stop();
        expect(got.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      });

      it('filters by job, scope, session and type', async () => {
        const byJob: RuntimeEvent[] = [];
        const byScope: RuntimeEvent[] = [];
        const bySession: RuntimeEvent[] = [];
        const byType: RuntimeEvent[] = [];
        const stops = [
          bus.subscribe(collect(byJob), { jobId }),
          bus.subscribe(collect(byScope), { scopeId }),
          bus.subscribe(collect(bySession), { sessionId: 'sess-x', scopeId }),
          bus.subscribe(collect(byType), { eventTypes: ['checkpoint.saved'], scopeId }),
        ];
        await bus.publish(delta('1', { sessionId: 'sess-x' }));
        await bus.publish(delta('2', { jobId: 'other-job' }));
        await bus.publish(delta('3', { scopeId: unique('scope') }));
        await bus.publish({ type: 'checkpoint.saved', jobId, scopeId, data: { seq: 0, key: `${jobId}:0` } });
        await settle();
        for (const stop of stops) stop();
        const texts = (events: RuntimeEvent[]) => events.map((e) => (e.type === 'model.delta' ? e.data.textDelta : e.type));
        expect(texts(byJob)).toEqual(['1', '3', 'checkpoint.saved']);
        expect(texts(byScope)).toEqual(['1', '2', 'checkpoint.saved']);
        expect(texts(bySession)).toEqual(['1']);
        expect(texts(byType)).toEqual(['checkpoint.saved']);
      });

      it('stops after unsubscribe', async () => {
        const got: RuntimeEvent[] = [];
        const stop = bus.subscribe(collect(got), { jobId });
        await bus.publish(delta('a'));
        await settle();
        stop();
        await bus.publish(delta('b'));
        await settle();
        expect(got).toHaveLength(1);
      });

      it('survives handlers that throw or reject, and reports them', async () => {
        const errors: unknown[] = [];
        const got: RuntimeEvent[] = [];
        const stops = [
          bus.subscribe(() => {
            throw new Error('boom');
          }, { jobId, onError: (e) => errors.push(e) }),
          bus.subscribe(async () => {
            throw new Error('async boom');
          }, { jobId, onError: (e) => errors.push(e) }),
          bus.subscribe(collect(got), { jobId }),
        ];
        const published = await bus.publish(delta('a'));
        await bus.publish(delta('b'));
        await settle();
        for (const stop of stops) stop();
        expect(published.seq).toBe(1);
        expect(got).toHaveLength(2);
        expect(errors.map((e) => (e as Error).message).sort()).toEqual(['async boom', 'async boom', 'boom', 'boom']);
      });

      it('does not wait for a slow handler to publish', async () => {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const got: number[] = [];
        const stop = bus.subscribe(async (e) => {
          await gate;
          got.push(e.seq);
        }, { jobId });
        for (let i = 0; i < 5; i++) await bus.publish(delta(String(i)));
        expect(got).toEqual([]);
        release();
        await settle();
        stop();
        expect(got).toEqual([1, 2, 3, 4, 5]);
      });
    });

    describe('stream', () => {
      it('replays from a seq then follows live events, with no gap and no duplicate', async () => {
        for (let i = 0; i < 3; i++) await bus.publish(delta(String(i)));
        const seen: number[] = [];
        const done = (async () => {
          for await (const e of bus.stream({ jobId, scopeId, fromSeq: 2, until: (x) => x.seq === 8 })) seen.push(e.seq);
        })();
        // Publish while the stream is still replaying, and after.
        const racing = Promise.all([bus.publish(delta('3')), bus.publish(delta('4'))]);
        await racing;
        await settle();
        for (let i = 5; i < 8; i++) await bus.publish(delta(String(i)));
        await done;
        expect(seen).toEqual([2, 3, 4, 5, 6, 7, 8]);
      });

      it('filters types after replay and ends on abort', async () => {
        await bus.publish({ type: 'step.started', jobId, scopeId, data: { seq: 0, key: 'k', kind: 'model', name: 'm' } });
        await bus.publish(delta('x'));
        const controller = new AbortController();
        const types: string[] = [];
        const done = (async () => {
          for await (const e of bus.stream({ jobId, scopeId, fromSeq: 1, eventTypes: ['step.started', 'step.completed'], signal: controller.signal })) {
            types.push(e.type);
            if (types.length === 2) controller.abort();
          }
        })();
        await bus.publish(delta('y'));
        await bus.publish({ type: 'step.completed', jobId, scopeId, data: { seq: 0, key: 'k', kind: 'model', name: 'm', durationMs: 1 } });
        await done;
        expect(types).toEqual(['step.started', 'step.completed']);
      });

      it('follows only live events without fromSeq, and refuses fromSeq without a job', async () => {
        await bus.publish(delta('old'));
        const seen: number[] = [];
        const done = (async () => {
          for await (const e of bus.stream({ jobId, scopeId, until: () => true })) seen.push(e.seq);
        })();
        await settle();
        await bus.publish(delta('new'));
        await done;
        expect(seen).toEqual([2]);
        expect(() => bus.stream({ scopeId, fromSeq: 1 })).toThrow(/jobId/);
      });
    });

    describe('corrupt records', () => {
      it('names the job and seq when a stored event does not parse', async () => {
        const e = await bus.publish(delta('a'));
        await h.corrupt({ jobId, scopeId, seq: 1, raw: { ...e, data: { model: 'm', textDelta: 7 } } });
        const error = await rejects(bus.replay({ jobId, scopeId }), 'corrupt_record');
        expect(error).toBeInstanceOf(CorruptRecordError);
        expect(error).toMatchObject({ recordType: 'event', jobId });
        expect(error.message).toContain('textDelta');
      });

      it('refuses an event with an unknown schema version', async () => {
        const e = await bus.publish(delta('a'));
        await h.corrupt({ jobId, scopeId, seq: 1, raw: { ...e, schemaVersion: 3 } });
        const error = await rejects(bus.replay({ jobId, scopeId }), 'corrupt_record');
        expect(error.message).toContain('schema version');
      });
    });
  });
}
