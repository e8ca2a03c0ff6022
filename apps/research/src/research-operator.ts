import type { Agent } from '@baton/llm-client';
import {
  DebateOperator,
  MapReduceOperator,
  agentOperator,
  parsePlan,
  type AggregateInput,
  type DebateOutcome,
  type DebaterInput,
  type JsonValue,
  type ModeratorInput,
  type Operator,
  type OperatorContext,
  type OperatorResult,
} from '@baton/agent-runtime';
import { budgetStopOf, type BudgetStop } from './budget-stop.js';
import type { ParallelTracker } from './tools.js';

export interface Finding {
  question: string;
  text: string | null;
  stoppedBy?: BudgetStop;
}

export interface DebateSummary {
  consensus: boolean;
  rounds: number;
  verdict: string;
  transcript: Array<{ round: number; positions: string[]; verdict: string }>;
}

/** A research job's result: every stage's output, or as many as ran before the budget stopped it. */
export interface ResearchReport {
  status: 'completed' | 'stopped';
  topic: string;
  plan: string[];
  findings: Finding[];
  summary: string | null;
  debate: DebateSummary | null;
  synthesis: string | null;
  stoppedBy?: BudgetStop;
}

export interface ResearchAgents {
  planner: Agent;
  researcher: Agent;
  summarizer: Agent;
  optimist: Agent;
  skeptic: Agent;
  moderator: Agent;
  synthesizer: Agent;
}

export interface ResearchOperatorOptions {
  agents: ResearchAgents;
  /** Researchers at once (default 3). */
  maxParallel?: number;
  /** Debate rounds at most (default 3). */
  maxRounds?: number;
  tracker?: ParallelTracker;
}

interface Researched {
  findings: Finding[];
  summary: string | null;
  stoppedBy?: BudgetStop;
}

/**
 * planner → map (researchers, at most `maxParallel` at once) → reduce (summarizer) → debate
 * (optimist vs skeptic, judged by a moderator) → synthesizer. A budget error ends the job with
 * the stages finished so far and `status: 'stopped'`.
 */
export class ResearchOperator implements Operator<JsonValue, ResearchReport> {
  readonly name = 'research';
  private readonly planner: Operator<string, string[]>;
  private readonly research: MapReduceOperator<string[], Researched>;
  private readonly debate: DebateOperator<string>;
  private readonly synthesizer: Operator<string, string>;

  constructor(options: ResearchOperatorOptions) {
    const { agents } = options;
    this.planner = agentOperator<string, string[]>(agents.planner, {
      name: 'planner',
      prompt: (topic) => `Topic: ${topic}`,
      output: (result) => parsePlan(result.text).map(String),
    });
    const researcher = agentOperator<string, Finding>(agents.researcher, {
      name: 'researcher',
      prompt: (question) => `Question: ${question}`,
      output: (result, question) => ({ question, text: result.text }),
    });
    const summarizer = agentOperator<AggregateInput<string[]>, Researched>(agents.summarizer, {
      name: 'summarizer',
      prompt: ({ outputs }) => `Findings:\n${(outputs as Finding[]).map((f) => `- ${f.question}: ${f.text}`).join('\n')}`,
      output: (result, { outputs }) => ({ findings: outputs as Finding[], summary: result.text }),
    });
    this.research = new MapReduceOperator<string[], Researched>({
      name: 'research',
      mapper: guarded(tracked(researcher, options.tracker), 'research', (question: string, stop) => ({ question, text: null, stoppedBy: stop })),
      reducer: unlessStopped(guarded(summarizer, 'summary', ({ outputs }: AggregateInput<string[]>, stop) => ({ findings: outputs as Finding[], summary: null, stoppedBy: stop }))),
      maxParallel: options.maxParallel ?? 3,
      failFast: true,
    });
    const criticPrompt = (d: DebaterInput) => {
      const earlier = d.history.map((h) => `Round ${h.round}: ${(h.positions as string[]).join(' | ')}`).join('\n');
      return `Round: ${d.round}\nSummary: ${String(d.topic)}${earlier ? `\nEarlier rounds:\n${earlier}` : ''}`;
    };
    this.debate = new DebateOperator<string>({
      name: 'critics',
      debaters: [agentOperator(agents.optimist, { name: 'optimist', prompt: criticPrompt }), agentOperator(agents.skeptic, { name: 'skeptic', prompt: criticPrompt })],
      moderator: agentOperator(agents.moderator, {
        name: 'moderator',
        prompt: (m: ModeratorInput) => `Round: ${m.round}\nPositions:\n${(m.positions as string[]).map((p, i) => `- ${i === 0 ? 'optimist' : 'skeptic'}: ${p}`).join('\n')}`,
      }),
      debaterInput: (d) => d,
      maxRounds: options.maxRounds ?? 3,
    });
    this.synthesizer = agentOperator<string, string>(agents.synthesizer, { name: 'synthesizer' });
  }

  async execute(input: JsonValue, ctx: OperatorContext): Promise<OperatorResult<ResearchReport>> {
    const topic = typeof input === 'string' ? input : String((input as { topic?: unknown } | null)?.topic ?? '');
    const report: ResearchReport = { status: 'completed', topic, plan: [], findings: [], summary: null, debate: null, synthesis: null };
    const results: Array<OperatorResult<unknown>> = [];
    let stage = 'plan';
    try {
      const planned = await ctx.run(this.planner, topic);
      results.push(planned);
      report.plan = planned.output;

      stage = 'research';
      const researched = await ctx.run(this.research, report.plan);
      results.push(researched);
      report.findings = researched.output.findings;
      report.summary = researched.output.summary;
      const stop = researched.output.stoppedBy ?? report.findings.find((f) => f.stoppedBy)?.stoppedBy;
      if (stop) return this.stopped(report, stop, results);

      stage = 'debate';
      const debated = await ctx.run(this.debate, report.summary ?? '');
      results.push(debated);
      report.debate = debateSummary(debated.output);

      stage = 'synthesis';
      const synthesis = await ctx.run(this.synthesizer, `Topic: ${topic}\nSummary: ${report.summary}\nVerdict: ${report.debate.verdict}`);
      results.push(synthesis);
      report.synthesis = synthesis.output;
      return { output: report, usage: sum(results) };
    } catch (error) {
      const stop = budgetStopOf(error, stage);
      if (!stop) throw error;
      return this.stopped(report, stop, results);
    }
  }

  private stopped(report: ResearchReport, stop: BudgetStop, results: Array<OperatorResult<unknown>>): OperatorResult<ResearchReport> {
    return { output: { ...report, status: 'stopped', stoppedBy: stop }, usage: sum(results), metadata: { stoppedAt: stop.stage } };
  }
}

function debateSummary(outcome: DebateOutcome): DebateSummary {
  const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v ?? null));
  return {
    consensus: outcome.consensus,
    rounds: outcome.rounds,
    verdict: outcome.consensus ? text(outcome.answer) : text(outcome.transcript.at(-1)?.verdict?.summary ?? outcome.answer),
    transcript: outcome.transcript.map((r) => ({ round: r.round, positions: r.positions.map(text), verdict: r.verdict ? (r.verdict.consensus ? `consensus: ${text(r.verdict.answer)}` : text(r.verdict.summary)) : '' })),
  };
}

function sum(results: Array<OperatorResult<unknown>>): OperatorResult['usage'] {
  let any = false;
  const total = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  for (const r of results) {
    if (!r.usage) continue;
    any = true;
    total.inputTokens += r.usage.inputTokens;
    total.outputTokens += r.usage.outputTokens;
    total.totalTokens += r.usage.totalTokens;
  }
  return any ? total : undefined;
}

/** Counts the operator's runs in flight. */
function tracked<I, O>(op: Operator<I, O>, tracker: ParallelTracker | undefined): Operator<I, O> {
  if (!tracker) return op;
  return {
    name: op.name,
    async execute(input, ctx) {
      tracker.enter();
      try {
        return await op.execute(input, ctx);
      } finally {
        tracker.leave();
      }
    },
  };
}

/** Turns a budget error of the operator into a partial output, so the stages before it are kept. */
function guarded<I, O>(op: Operator<I, O>, stage: string, fallback: (input: I, stop: BudgetStop) => O): Operator<I, O> {
  return {
    name: op.name,
    async execute(input, ctx) {
      try {
        return await op.execute(input, ctx);
      } catch (error) {
        const stop = budgetStopOf(error, stage);
        if (!stop) throw error;
        return { output: fallback(input, stop), metadata: { stopped: stop.code } };
      }
    },
  };
}

/** Skips the summarizer when a researcher was stopped by the budget: there is nothing whole to summarize. */
function unlessStopped(op: Operator<AggregateInput<string[]>, Researched>): Operator<AggregateInput<string[]>, Researched> {
  return {
    name: op.name,
    async execute(input, ctx) {
      const findings = input.outputs as Finding[];
      const stop = findings.find((f) => f.stoppedBy)?.stoppedBy;
      return stop ? { output: { findings, summary: null, stoppedBy: stop } } : op.execute(input, ctx);
    },
  };
}
