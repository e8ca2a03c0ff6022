/**
 * Ledger and action benchmarks, in memory: budget reservation + settlement per call, concurrent
 * reservations against one scope, and an action's require → resolve round trip.
 * Run: node --conditions=source --expose-gc --import tsx src/runtime-ledger.bench.ts
 * Prints tables; never exits non-zero on timing.
 */
import { ActionManager, InMemoryActionStore, InMemoryLedgerWriter, InMemorySignalChannel, Ledger, type ExecutionContext } from '@baton/agent-runtime';
import { latencyRow, measure, printTable, rssMb } from './harness.js';

const usage = { inputTokens: 900, outputTokens: 100, cachedInputTokens: 0, totalTokens: 1_000 };

async function ledgerRows(): Promise<Array<Record<string, string | number>>> {
  const ledger = new Ledger({ writer: new InMemoryLedgerWriter(), budgets: [{ scopeId: 'acme', dailyTokens: Number.MAX_SAFE_INTEGER, dailyCostUsd: '1000000' }] });
  const ctx: ExecutionContext = { scopeId: 'acme', principalId: 'u', jobId: 'job-1', budgets: {} };
  const rows: Array<Record<string, string | number>> = [];
  rows.push(latencyRow('checkBudget (reserve)', await measure(20_000, () => ledger.checkBudget(ctx, 1_000, 5_000))));
  rows.push(
    latencyRow(
      'reserve + settle',
      await measure(20_000, async () => {
        const decision = await ledger.checkBudget(ctx, 1_000, 5_000);
        if (decision.decision !== 'deny') await ledger.recordModelUsage(decision, usage, 4_000);
      }),
    ),
  );
  return rows;
}

async function concurrentRows(): Promise<Array<Record<string, string | number>>> {
  const rows: Array<Record<string, string | number>> = [];
  for (const concurrency of [10, 100, 1_000]) {
    const ledger = new Ledger({ writer: new InMemoryLedgerWriter(), budgets: [{ scopeId: 'acme', dailyTokens: concurrency * 500 }] });
    const t0 = process.hrtime.bigint();
    const decisions = await Promise.all(Array.from({ length: concurrency }, (_, i) => ledger.checkBudget({ scopeId: 'acme', principalId: 'u', jobId: `job-${i}`, budgets: {} }, 1_000)));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const allowed = decisions.filter((d) => d.decision !== 'deny').length;
    rows.push({ concurrent: concurrency, 'budget fits': concurrency / 2, allowed, 'total ms': ms.toFixed(2), 'reservations/s': Math.round(concurrency / (ms / 1000)) });
  }
  return rows;
}

async function actionRows(): Promise<Array<Record<string, string | number>>> {
  const actions = new ActionManager({ store: new InMemoryActionStore(), signals: new InMemorySignalChannel() });
  const ctx: ExecutionContext = { scopeId: 'acme', principalId: 'u', jobId: 'job-1', budgets: {} };
  return [
    latencyRow(
      'requireAction + resolve',
      await measure(5_000, async () => {
        const { resumeToken } = await actions.requireAction({ title: 'Approve?' }, ctx);
        await actions.resolve(resumeToken, { approved: true }, { scopeId: 'acme', principalId: 'alice' });
      }),
    ),
  ];
}

printTable('Ledger, in memory (per call)', await ledgerRows());
printTable('Concurrent reservations against one scope (half fit)', await concurrentRows());
printTable('Actions, in memory', await actionRows());
console.log(`\nRSS ${rssMb()} MB`);
