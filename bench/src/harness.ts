/**
 * A tiny benchmark harness: run a function many times, report median / p95 / p99 and
 * throughput, print aligned tables. Timing never fails a run; targets are printed next to the
 * figures so a reader sees at once how far off they are.
 */
export interface Sample {
  name: string;
  /** Durations in nanoseconds. */
  samplesNs: number[];
  unit?: 'us' | 'ms';
  target?: string;
  extra?: Record<string, string | number>;
}

export async function measure(iterations: number, fn: (i: number) => unknown | Promise<unknown>, warmup = Math.min(1000, Math.ceil(iterations / 10))): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const out = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    out[i] = Number(process.hrtime.bigint() - t0);
  }
  return out;
}

export function quantile(sortedNs: number[], q: number): number {
  if (sortedNs.length === 0) return Number.NaN;
  const idx = Math.min(sortedNs.length - 1, Math.max(0, Math.ceil(q * sortedNs.length) - 1));
  return sortedNs[idx]!;
}

export function summarize(samplesNs: number[]) {
  const sorted = [...samplesNs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return { n: sorted.length, median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99), mean: sum / Math.max(1, sorted.length) };
}

export function fmtNs(ns: number, unit: 'us' | 'ms' = 'us'): string {
  return unit === 'us' ? `${(ns / 1e3).toFixed(2)} µs` : `${(ns / 1e6).toFixed(3)} ms`;
}

export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  console.log(`\n## ${title}\n`);
  if (rows.length === 0) return;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(cols));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(cols.map((c) => String(r[c] ?? ''))));
}

export function latencyRow(name: string, samplesNs: number[], target = '', unit: 'us' | 'ms' = 'us'): Record<string, string | number> {
  const s = summarize(samplesNs);
  return { case: name, n: s.n, median: fmtNs(s.median, unit), p95: fmtNs(s.p95, unit), p99: fmtNs(s.p99, unit), target };
}

export function rssMb(): number {
  return Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10;
}
