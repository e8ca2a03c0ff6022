import { describe, expect, it } from 'vitest';
import { formatRun } from './print-report.js';
import { runResearch } from './run-research.js';
import { createScriptedModel } from './scripted-model.js';

const topic = 'Should a household in central Europe replace its gas boiler with a heat pump?';

describe('research job (scripted model)', () => {
  it('plans, researches in parallel up to maxParallel, summarizes, debates, synthesizes', async () => {
    const model = createScriptedModel();
    const run = await runResearch({ topic, model, maxParallel: 2 });
    const { report } = run;
    expect(report.status).toBe('completed');
    expect(report.plan).toHaveLength(4);
    expect(report.plan[0]).toMatch(/cost/);
    expect(report.findings.map((f) => f.question)).toEqual(report.plan);
    expect(report.findings[0]!.text).toContain('[n1]');
    expect(report.findings[3]!.text).toContain('[n7]');
    expect(report.summary).toMatch(/\[n3, n4\]/);
    // Four researchers, never more than two at once, and two did overlap.
    expect(run.parallel).toEqual({ peak: 2, started: 4, maxParallel: 2 });
    // The debate: the skeptic objects in round 1, both accept in round 2.
    expect(report.debate).toMatchObject({ consensus: true, rounds: 2 });
    expect(report.debate!.transcript[0]!.positions[1]).toMatch(/^REVISE/);
    expect(report.debate!.transcript[1]!.positions.every((p) => p.startsWith('ACCEPT'))).toBe(true);
    expect(report.synthesis).toContain('Caveat agreed by the critics: Sound, provided older houses');
    // 1 plan + 4×2 research turns + 1 summary + 2×3 debate calls + 1 synthesis.
    expect(model.calls).toHaveLength(17);
    expect(run.usage).toMatchObject({ modelCalls: 17, toolCalls: 4 });
    expect(run.usage.tokens).toBeGreaterThan(0);
    expect(run.usage.costNanoUsd).toBeGreaterThan(0);
    const text = formatRun(run);
    expect(text).toContain('== Plan');
    expect(text).toContain('verdict (consensus after 2 rounds)');
    expect(text).toMatch(/== Usage: \d+ tokens, \$0\.\d+, 17 model calls, 4 tool calls/);
  });

  it('with maxParallel 4 all researchers run at once', async () => {
    const run = await runResearch({ topic, model: createScriptedModel(), maxParallel: 4 });
    expect(run.parallel.peak).toBe(4);
    expect(run.report.status).toBe('completed');
  });

  it('a tight scope budget stops the job cleanly with the typed error and the stages that ran', async () => {
    const model = createScriptedModel();
    const run = await runResearch({ topic, model, maxParallel: 2, scopeTokens: 2500 });
    const { report } = run;
    expect(report.status).toBe('stopped');
    expect(report.stoppedBy).toMatchObject({ code: 'scope_budget_exceeded', budget: 'daily_tokens', message: expect.stringContaining('daily token budget of 2500') });
    expect(report.plan).toHaveLength(4);
    expect(report.synthesis).toBeNull();
    expect(model.calls.length).toBeLessThan(17);
    expect(run.usage.tokens).toBeLessThanOrEqual(2500);
    expect(formatRun(run)).toMatch(/== Stopped by budget at stage '(research|summary|debate|synthesis)' \(scope_budget_exceeded, daily_tokens\)/);
  });

  it('a budget too small for the planner stops before any research', async () => {
    const model = createScriptedModel();
    const run = await runResearch({ topic, model, scopeTokens: 100 });
    expect(run.report).toMatchObject({ status: 'stopped', plan: [], findings: [], summary: null, debate: null, synthesis: null, stoppedBy: { code: 'scope_budget_exceeded', stage: 'plan' } });
    expect(model.calls).toHaveLength(0);
  });
});
