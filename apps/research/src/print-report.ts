import type { ResearchRun } from './run-research.js';

/** The run as readable text: plan, findings, summary, debate, synthesis, usage (or where the budget stopped it). */
export function formatRun(run: ResearchRun): string {
  const { report, usage, parallel } = run;
  const out: string[] = [];
  out.push(`Research: ${report.topic}`, `job ${run.jobId}`, '');
  out.push('== Plan');
  report.plan.forEach((step, i) => out.push(`  ${i + 1}. ${step}`));
  out.push('', `== Findings (${report.findings.length} researchers, at most ${parallel.maxParallel} at once; peak ${parallel.peak})`);
  report.findings.forEach((f, i) => {
    out.push(`  [${i + 1}] ${f.question}`);
    out.push(f.text !== null ? `      ${f.text}` : `      (not researched: ${f.stoppedBy?.code ?? 'stopped'})`);
  });
  out.push('', '== Summary', `  ${report.summary ?? '(none)'}`);
  out.push('', '== Debate');
  if (report.debate) {
    for (const r of report.debate.transcript) {
      out.push(`  round ${r.round}`, `    optimist: ${r.positions[0] ?? ''}`, `    skeptic:  ${r.positions[1] ?? ''}`, `    moderator: ${r.verdict}`);
    }
    out.push(`  verdict (${report.debate.consensus ? 'consensus' : 'no consensus'} after ${report.debate.rounds} round${report.debate.rounds === 1 ? '' : 's'}): ${report.debate.verdict}`);
  } else out.push('  (not run)');
  out.push('', '== Synthesis', `  ${report.synthesis ?? '(none)'}`);
  out.push('', `== Usage: ${usage.tokens} tokens, $${(usage.costNanoUsd / 1e9).toFixed(6)}, ${usage.modelCalls} model calls, ${usage.toolCalls} tool calls`);
  if (report.status === 'stopped' && report.stoppedBy) {
    const s = report.stoppedBy;
    out.push('', `== Stopped by budget at stage '${s.stage}' (${s.code}, ${s.budget})`, `  ${s.message}`, '  The stages above ran; the rest did not.');
  } else out.push(`status: ${report.status}`);
  return out.join('\n');
}
