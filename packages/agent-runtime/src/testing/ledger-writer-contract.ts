import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerEvent, LedgerReservation, LedgerWriter } from '../ports/ledger-writer.js';

export interface LedgerWriterContractInit {
  store: LedgerWriter;
  cleanup?: () => Promise<void>;
  /** Overwrites a stored event so it no longer parses. Needed unless `{ corruption: false }`. */
  corrupt?: (target: { scopeId: string; eventId: string }, mode: 'malformed' | 'unknown_version') => Promise<void>;
}

export interface LedgerWriterContractOptions {
  name?: string;
  /** Registers the corrupt-row test (default true); `init` must then return `corrupt`. */
  corruption?: boolean;
}

const DAY = '2030-01-15';
const T0 = Date.UTC(2030, 0, 15, 12, 0, 0);

function usageEvent(scopeId: string, overrides: Partial<LedgerEvent> = {}): LedgerEvent {
  return {
    schemaVersion: 1,
    id: `le_${randomUUID()}`,
    scopeId,
    jobId: 'job-1',
    kind: 'model_usage',
    provider: 'scripted',
    model: 'm1',
    inputTokens: 60,
    outputTokens: 40,
    cachedInputTokens: 10,
    totalTokens: 100,
    costNanoUsd: 1_000,
    at: T0,
    day: DAY,
    ...overrides,
  };
}

function reservation(scopeId: string, overrides: Partial<LedgerReservation> = {}): LedgerReservation {
  return {
    schemaVersion: 1,
    id: `res_${randomUUID()}`,
    scopeId,
    jobId: 'job-1',
    day: DAY,
    tokens: 100,
    costNanoUsd: 1_000,
    createdAt: T0,
    expiresAt: T0 + 60_000,
    status: 'open',
    ...overrides,
  };
}

function closing(kind: 'settlement' | 'release', r: LedgerReservation, overrides: Partial<LedgerEvent> = {}): LedgerEvent {
  const zero = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, totalTokens: 0, costNanoUsd: 0 };
  return usageEvent(r.scopeId, { kind, reservationId: r.id, ...(kind === 'release' ? zero : {}), ...overrides });
}

/**
 * The conformance suite every `LedgerWriter` runs: scoped sums per day, idempotent appends,
 * atomic reservations under concurrency (20 concurrent against room for 5: exactly 5 win),
 * settlement and release (each at most once), lapsed reservations, and corrupt rows.
 */
export function describeLedgerWriterContract(init: () => Promise<LedgerWriterContractInit>, options: LedgerWriterContractOptions = {}): void {
  describe(`LedgerWriter contract${options.name ? `: ${options.name}` : ''}`, () => {
    let ctx: LedgerWriterContractInit;
    let ledger: LedgerWriter;
    let scopeId: string;
    beforeEach(async () => {
      ctx = await init();
      ledger = ctx.store;
      scopeId = `scope_${randomUUID()}`;
    });
    afterEach(async () => {
      await ctx.cleanup?.();
    });

    it('sums usage per scope and day, and lists a job in write order', async () => {
      const a = usageEvent(scopeId);
      const b = usageEvent(scopeId, { kind: 'tool_usage', totalTokens: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costNanoUsd: 250, at: T0 + 1 });
      const nextDay = usageEvent(scopeId, { day: '2030-01-16', at: T0 + 86_400_000 });
      const otherScope = usageEvent(`scope_${randomUUID()}`);
      const otherJob = usageEvent(scopeId, { jobId: 'job-2' });
      await ledger.append([a, b]);
      await ledger.append([nextDay, otherScope, otherJob]);
      expect(await ledger.sumUsage({ scopeId, day: DAY, now: T0 })).toEqual({
        scopeId,
        day: DAY,
        usedTokens: 200,
        usedCostNanoUsd: 2_250,
        reservedTokens: 0,
        reservedCostNanoUsd: 0,
      });
      expect((await ledger.listByJob({ scopeId, jobId: 'job-1' })).map((e) => e.id)).toEqual([a.id, b.id, nextDay.id]);
      expect(await ledger.listByJob({ scopeId: 'someone-else', jobId: 'job-1' })).toEqual([]);
      expect((await ledger.listByJob({ scopeId, jobId: 'job-1' }))[0]).toEqual(a);
    });

    it('skips an event whose id is already stored', async () => {
      const e = usageEvent(scopeId);
      await ledger.append([e]);
      await ledger.append([e]);
      expect((await ledger.sumUsage({ scopeId, day: DAY, now: T0 })).usedTokens).toBe(100);
    });

    it('counts negative adjustments', async () => {
      await ledger.append([usageEvent(scopeId), usageEvent(scopeId, { kind: 'adjustment', totalTokens: -30, inputTokens: -30, outputTokens: 0, costNanoUsd: -400 })]);
      const totals = await ledger.sumUsage({ scopeId, day: DAY, now: T0 });
      expect([totals.usedTokens, totals.usedCostNanoUsd]).toEqual([70, 600]);
    });

    it('reserves within the limits and refuses past them, writing nothing', async () => {
      await ledger.append([usageEvent(scopeId, { totalTokens: 300, costNanoUsd: 3_000 })]);
      const ok = await ledger.reserve({ reservation: reservation(scopeId, { tokens: 150 }), limits: { maxTokens: 500 }, now: T0 });
      expect(ok.ok).toBe(true);
      expect(ok.totals).toMatchObject({ usedTokens: 300, reservedTokens: 0 });
      const refused = reservation(scopeId, { tokens: 51 });
      const no = await ledger.reserve({ reservation: refused, limits: { maxTokens: 500 }, now: T0 });
      expect(no).toEqual({ ok: false, totals: expect.objectContaining({ usedTokens: 300, reservedTokens: 150 }) });
      expect(await ledger.getReservation({ scopeId, reservationId: refused.id })).toBeUndefined();
      const exact = await ledger.reserve({ reservation: reservation(scopeId, { tokens: 50 }), limits: { maxTokens: 500 }, now: T0 });
      expect(exact.ok).toBe(true);
      const byCost = await ledger.reserve({ reservation: reservation(scopeId, { tokens: 0, costNanoUsd: 6_000 }), limits: { maxCostNanoUsd: 10_000 }, now: T0 });
      expect(byCost.ok).toBe(false);
      expect(await ledger.sumUsage({ scopeId, day: DAY, now: T0 })).toMatchObject({ reservedTokens: 200, reservedCostNanoUsd: 2_000 });
    });

    it('lets exactly 5 of 20 concurrent reservations into a budget that fits 5', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => ledger.reserve({ reservation: reservation(scopeId, { tokens: 100, costNanoUsd: 10 }), limits: { maxTokens: 500 }, now: T0 })),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(5);
      expect((await ledger.sumUsage({ scopeId, day: DAY, now: T0 })).reservedTokens).toBe(500);
    });

    it('lets exactly 3 of 10 concurrent reservations into a cost budget that fits 3', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, () => ledger.reserve({ reservation: reservation(scopeId, { tokens: 1, costNanoUsd: 1_000_000 }), limits: { maxCostNanoUsd: 3_500_000 }, now: T0 })),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(3);
    });

    it('settles a reservation with the real usage, releasing the rest, once', async () => {
      const r = reservation(scopeId, { tokens: 1_000, costNanoUsd: 50_000 });
      await ledger.reserve({ reservation: r, limits: { maxTokens: 5_000 }, now: T0 });
      const settled = await ledger.settle({ scopeId, reservationId: r.id, event: closing('settlement', r, { totalTokens: 400, costNanoUsd: 20_000, at: T0 + 10 }) });
      expect(settled).toMatchObject({ id: r.id, status: 'settled' });
      expect(await ledger.sumUsage({ scopeId, day: DAY, now: T0 + 10 })).toMatchObject({ usedTokens: 400, usedCostNanoUsd: 20_000, reservedTokens: 0, reservedCostNanoUsd: 0 });
      await expect(ledger.settle({ scopeId, reservationId: r.id, event: closing('settlement', r) })).rejects.toMatchObject({ code: 'reservation_closed' });
      const release = await ledger.release({ scopeId, reservationId: r.id, event: closing('release', r) });
      expect(release.released).toBe(false);
      expect((await ledger.sumUsage({ scopeId, day: DAY, now: T0 + 10 })).usedTokens).toBe(400);
      const kinds = (await ledger.listByJob({ scopeId, jobId: 'job-1' })).map((e) => e.kind);
      expect(kinds).toEqual(['reservation', 'settlement']);
    });

    it('lets exactly one of two concurrent settlements win', async () => {
      const r = reservation(scopeId);
      await ledger.reserve({ reservation: r, limits: {}, now: T0 });
      const results = await Promise.allSettled([
        ledger.settle({ scopeId, reservationId: r.id, event: closing('settlement', r) }),
        ledger.settle({ scopeId, reservationId: r.id, event: closing('settlement', r) }),
      ]);
      expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
      expect((await ledger.sumUsage({ scopeId, day: DAY, now: T0 })).usedTokens).toBe(100);
    });

    it('releases a reservation without usage, and a second release changes nothing', async () => {
      const r = reservation(scopeId);
      await ledger.reserve({ reservation: r, limits: {}, now: T0 });
      expect((await ledger.release({ scopeId, reservationId: r.id, event: closing('release', r) })).released).toBe(true);
      expect((await ledger.release({ scopeId, reservationId: r.id, event: closing('release', r) })).released).toBe(false);
      expect(await ledger.sumUsage({ scopeId, day: DAY, now: T0 })).toMatchObject({ usedTokens: 0, reservedTokens: 0 });
      expect((await ledger.getReservation({ scopeId, reservationId: r.id }))?.status).toBe('released');
    });

    it("treats another scope's or an unknown reservation as not found", async () => {
      const r = reservation(scopeId);
      await ledger.reserve({ reservation: r, limits: {}, now: T0 });
      const other = `scope_${randomUUID()}`;
      expect(await ledger.getReservation({ scopeId: other, reservationId: r.id })).toBeUndefined();
      const foreign = { ...closing('settlement', r), scopeId: other };
      await expect(ledger.settle({ scopeId: other, reservationId: r.id, event: foreign })).rejects.toMatchObject({ code: 'reservation_not_found' });
      await expect(ledger.release({ scopeId: other, reservationId: r.id, event: { ...closing('release', r), scopeId: other } })).rejects.toMatchObject({ code: 'reservation_not_found' });
      const ghost = reservation(scopeId);
      await expect(ledger.settle({ scopeId, reservationId: ghost.id, event: closing('settlement', ghost) })).rejects.toMatchObject({ code: 'reservation_not_found' });
      expect((await ledger.getReservation({ scopeId, reservationId: r.id }))?.status).toBe('open');
    });

    it('stops counting a lapsed reservation, which can still be settled', async () => {
      const r = reservation(scopeId, { tokens: 500, expiresAt: T0 + 1_000 });
      await ledger.reserve({ reservation: r, limits: { maxTokens: 500 }, now: T0 });
      const blocked = await ledger.reserve({ reservation: reservation(scopeId, { tokens: 100 }), limits: { maxTokens: 500 }, now: T0 + 999 });
      expect(blocked.ok).toBe(false);
      expect((await ledger.sumUsage({ scopeId, day: DAY, now: T0 + 1_000 })).reservedTokens).toBe(0);
      const after = await ledger.reserve({ reservation: reservation(scopeId, { tokens: 100 }), limits: { maxTokens: 500 }, now: T0 + 1_000 });
      expect(after.ok).toBe(true);
      await ledger.settle({ scopeId, reservationId: r.id, event: closing('settlement', r, { totalTokens: 200 }) });
      expect(await ledger.sumUsage({ scopeId, day: DAY, now: T0 + 1_000 })).toMatchObject({ usedTokens: 200, reservedTokens: 100 });
    });

    (options.corruption === false ? () => {} : it)('throws a typed error naming the event on a corrupt row', async () => {
      if (!ctx.corrupt) throw new Error('init() must return corrupt(), or pass { corruption: false } to describeLedgerWriterContract');
      const e = usageEvent(scopeId);
      await ledger.append([e]);
      await ctx.corrupt({ scopeId, eventId: e.id }, 'malformed');
      await expect(ledger.listByJob({ scopeId, jobId: 'job-1' })).rejects.toMatchObject({ code: 'corrupt_ledger_record', recordId: e.id });
      await ctx.corrupt({ scopeId, eventId: e.id }, 'unknown_version');
      await expect(ledger.listByJob({ scopeId, jobId: 'job-1' })).rejects.toMatchObject({ code: 'corrupt_ledger_record', recordId: e.id });
    });
  });
}
