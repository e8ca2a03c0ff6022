import type { JobRecord, JournalEntry } from '@baton/agent-runtime';

const tty = process.stdout.isTTY && !process.env['NO_COLOR'];
const wrap = (code: string) => (s: string) => (tty ? `\u001b[${code}m${s}\u001b[0m` : s);
export const color = { bold: wrap('1'), dim: wrap('2'), green: wrap('32'), red: wrap('31'), cyan: wrap('36') };

export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(0)} ms`;
}

export interface Timings {
  openStoresMs: number;
  pauseMs: number;
  openStoresBMs: number;
  loadMs: number;
  resumeToDoneMs: number;
}

/** Which host ran a step: the last start/resume before it in the job's history names it. */
function hostAt(job: JobRecord, at: number): string {
  let host = '?';
  for (const change of job.stateHistory) {
    if (change.at > at) break;
    const m = /(?:started|resumed) on (\S+)/.exec(change.reason ?? '');
    if (m) host = m[1]!;
  }
  return host;
}

export function printTimeline({ job, entries, timings }: { job: JobRecord; entries: readonly JournalEntry[]; timings: Timings }): void {
  console.log(color.bold(`\ntimeline of job ${job.id}`));
  console.log(color.dim('  seq  host    step          kind     what                                took'));
  for (const e of entries) {
    const output = e.output as Record<string, unknown> | null | undefined;
    let what = e.name;
    if (e.kind === 'model') {
      const calls = (output?.['toolCalls'] as Array<{ name: string }> | undefined) ?? [];
      what = calls.length ? `asks for ${calls.map((t) => t.name).join(', ')}` : `answers "${String(output?.['text'] ?? '').slice(0, 24)}…"`;
    }
    if (e.kind === 'action') what = `approval ${String((output as { status?: string } | undefined)?.status ?? '')} by ${String((output as { resolvedBy?: string } | undefined)?.resolvedBy ?? '?')}`;
    if (e.kind === 'tool') what = `${e.name}${(output as { type?: string } | undefined)?.type === 'error' ? ' (refused)' : ''}`;
    console.log(`  ${String(e.seq).padStart(3)}  ${hostAt(job, e.startedAt).padEnd(6)}  ${String(e.stepId ?? e.seq).padEnd(12)}  ${e.kind.padEnd(7)}  ${what.slice(0, 35).padEnd(35)} ${ms(e.durationMs)}`);
  }
  console.log(color.dim('\n  state history'));
  const start = job.stateHistory[0]?.at ?? job.createdAt;
  for (const h of job.stateHistory) console.log(`  +${String(h.at - start).padStart(6)} ms  ${h.status.padEnd(19)} ${h.reason ?? ''}`);
  const result = (job.result ?? {}) as { usage?: { inputTokens?: number; outputTokens?: number }; cost?: string };
  console.log(color.dim('\n  figures'));
  console.log(`  host A: open store ${ms(timings.openStoresMs)} (the first run creates the database), run to pause and persist ${ms(timings.pauseMs)}`);
  console.log(`  host B: open store ${ms(timings.openStoresBMs)}, load job + action + journal ${ms(timings.loadMs)}, resume → completed ${ms(timings.resumeToDoneMs)}`);
  if (result.usage) console.log(`  tokens: ${result.usage.inputTokens ?? 0} in, ${result.usage.outputTokens ?? 0} out · cost $${result.cost ?? '0'}`);
  console.log(`  status: ${job.status === 'completed' ? color.green(job.status) : color.red(job.status)}`);
}
