/**
 * ExecutionEngine benchmarks: overhead per complete(), idempotency joiners, stream throughput.
 * Run: node --conditions=source --expose-gc --import tsx src/llm-client-engine.bench.ts
 * Prints tables; never exits non-zero on timing.
 */
import { ExecutionEngine, ScriptedProvider, type LanguageModel, type ModelRequest, type ModelResponse, type ModelStreamEvent } from '@baton/llm-client';
import { fmtNs, latencyRow, measure, printTable, rssMb, summarize } from './harness.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const request: ModelRequest = { messages: [{ role: 'user', content: 'What is the capital of Norway?' }] };

/** Answers at once with a prebuilt response: what is left is the engine's own cost. */
class InstantModel implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'scripted';
  readonly modelId = 'instant-1';
  private readonly answer: ModelResponse = {
    text: 'Oslo.',
    toolCalls: [],
    finishReason: 'stop',
    usage: { inputTokens: 12, outputTokens: 2, cachedInputTokens: 0, totalTokens: 14 },
    provider: 'scripted',
    model: 'instant-1',
  };
  complete(): Promise<ModelResponse> {
    return Promise.resolve(this.answer);
  }
  async *stream(): AsyncGenerator<ModelStreamEvent> {
    yield { type: 'finish', response: this.answer };
  }
}

async function overhead(): Promise<void> {
  const iterations = 50_000;
  const rows: Array<Record<string, string | number>> = [];
  const medians: Record<string, number> = {};
  const add = async (name: string, fn: () => Promise<unknown>, target = '') => {
    const samples = await measure(iterations, fn, 5000);
    medians[name] = summarize(samples).median;
    rows.push(latencyRow(name, samples, target));
  };

  const instant = new InstantModel();
  await add('InstantModel.complete() direct', () => instant.complete());
  await add('new ExecutionEngine() + complete(), InstantModel', () => new ExecutionEngine({ provider: instant }).complete(request));
  const instantEngine = new ExecutionEngine({ provider: instant });
  await add('engine.complete(), InstantModel (reused engine)', () => instantEngine.complete(request));

  const scripted = new ScriptedProvider({ script: ['Oslo.'], loop: true });
  // The scripted provider records every call; keep its log from growing during the run.
  const clearLog = () => void (scripted.calls.length = 0);
  await add('ScriptedProvider.complete() direct', () => {
    clearLog();
    return scripted.complete(request);
  });
  const engine = new ExecutionEngine({ provider: scripted });
  await add('engine.complete(), ScriptedProvider', () => {
    clearLog();
    return engine.complete(request);
  }, '< 20 µs median overhead');
  const withHooks = new ExecutionEngine({ provider: scripted, hooks: { 'request.start': () => undefined, 'request.finish': () => undefined } });
  await add('  + request.start/finish hooks', () => {
    clearLog();
    return withHooks.complete(request);
  });
  const controller = new AbortController();
  await add('  + signal and timeoutMs', () => {
    clearLog();
    return engine.complete(request, { signal: controller.signal, timeoutMs: 30_000 });
  });
  let n = 0;
  await add('  + fresh idempotency key', () => {
    clearLog();
    return engine.complete(request, { idempotencyKey: `k${n++}` });
  });

  const o = (a: string, b: string) => fmtNs((medians[a] ?? 0) - (medians[b] ?? 0));
  rows.push({ case: 'overhead, InstantModel (median diff)', median: o('engine.complete(), InstantModel (reused engine)', 'InstantModel.complete() direct'), target: '< 20 µs' });
  rows.push({ case: 'overhead, ScriptedProvider (median diff)', median: o('engine.complete(), ScriptedProvider', 'ScriptedProvider.complete() direct'), target: '< 20 µs' });
  printTable(`Engine overhead per complete() (${iterations.toLocaleString()} calls each)`, rows);
}

async function idempotency(): Promise<void> {
  const joiners = 10_000;
  const rows: Array<Record<string, string | number>> = [];
  for (const round of [1, 2, 3]) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const provider = new ScriptedProvider({ script: async () => (await gate, 'the one answer') });
    const engine = new ExecutionEngine({ provider });
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    const calls = Array.from({ length: joiners }, () => engine.complete(request, { idempotencyKey: 'one-key' }));
    const tJoined = process.hrtime.bigint();
    gc();
    const heapInFlight = process.memoryUsage().heapUsed;
    release();
    const results = await Promise.all(calls);
    const t1 = process.hrtime.bigint();
    const joined = results.filter((r) => r.source === 'idempotency-join').length;
    rows.push({
      round,
      joiners,
      'provider calls': provider.calls.length,
      joined,
      'time to join all': fmtNs(Number(tJoined - t0), 'ms'),
      'total time': fmtNs(Number(t1 - t0), 'ms'),
      'time per joiner': fmtNs(Number(t1 - t0) / joiners),
      'heap held while in flight': `${((heapInFlight - heapBefore) / 1024 / 1024).toFixed(1)} MB`,
      'per joiner': `${Math.round((heapInFlight - heapBefore) / joiners)} B`,
      'rss': `${rssMb()} MB`,
    });
  }
  printTable(`Idempotency: ${joiners.toLocaleString()} concurrent calls on one key`, rows);
}

async function streaming(): Promise<void> {
  const tokens = 200_000;
  const text = 'tok '.repeat(tokens);
  const rows: Array<Record<string, string | number>> = [];
  const warmup = 3;
  const rounds = 5;
  const run = async (name: string, open: () => AsyncIterable<ModelStreamEvent>, target = '') => {
    const rates: number[] = [];
    let events = 0;
    for (let round = 0; round < warmup + rounds; round++) {
      events = 0;
      const t0 = process.hrtime.bigint();
      for await (const _ of open()) events++;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (round >= warmup) rates.push(events / seconds);
    }
    rates.sort((a, b) => a - b);
    const fmt = (n: number | undefined) => Math.round(n ?? 0).toLocaleString('en-US');
    rows.push({ case: name, events, 'events/s median': fmt(rates[Math.floor(rates.length / 2)]), 'events/s best': fmt(rates.at(-1)), target });
  };
  const scripted = new ScriptedProvider({ script: [text], loop: true });
  await run('ScriptedProvider.stream() direct', () => scripted.stream(request));
  const engine = new ExecutionEngine({ provider: scripted });
  await run('engine.stream(), ScriptedProvider', () => engine.stream(request), '> 1,000,000/s');
  const controller = new AbortController();
  await run('engine.stream() + signal and timeoutMs', () => engine.stream(request, { signal: controller.signal, timeoutMs: 60_000 }), '> 1,000,000/s');
  let n = 0;
  await run('engine.stream() + idempotency key (shared stream)', () => engine.stream(request, { idempotencyKey: `s${n++}` }));
  printTable(`Streaming throughput (${tokens.toLocaleString()} text deltas per stream; ${warmup} warm-up rounds, then ${rounds})`, rows);
}

await overhead();
await idempotency();
await streaming();
console.log(`\nrss at the end: ${rssMb()} MB`);
