import { InvalidArgumentError } from '@baton/llm-client';
import type { JsonValue } from '../jobs/json-value.js';
import type { OperatorContext } from './operator-context.js';
import { checkOperator, checkOperatorName, checkPositiveInt, sumUsage, type Operator, type OperatorResult } from './operator.js';
import { runConcurrently } from './run-concurrently.js';

/** One round of a debate: every debater's position, then the moderator's verdict. */
export interface DebateRound {
  round: number;
  positions: unknown[];
  verdict: DebateVerdict | undefined;
}

/** What a moderator decides after a round. */
export interface DebateVerdict {
  consensus: boolean;
  /** The agreed answer (or the moderator's best answer so far). */
  answer?: unknown;
  summary?: string | undefined;
}

/** What a debater gets each round. */
export interface DebaterInput<I = unknown> {
  topic: I;
  round: number;
  debater: number;
  /** Earlier rounds. */
  history: DebateRound[];
}

/** What the moderator gets each round. */
export interface ModeratorInput<I = unknown> {
  topic: I;
  round: number;
  positions: unknown[];
  history: DebateRound[];
}

/** The debate's output. */
export interface DebateOutcome {
  answer: unknown;
  consensus: boolean;
  rounds: number;
  transcript: DebateRound[];
}

export interface DebateOperatorOptions {
  name: string;
  /** At least two. Each speaks once per round; within a round they speak concurrently. */
  debaters: ReadonlyArray<Operator<any, any>>;
  /** Judges each round; its output is parsed with `parseVerdict`. */
  moderator?: Operator<any, any>;
  /** Rounds at most (default 3). */
  maxRounds?: number;
  /** Agreement read from the positions alone (checked when there is no moderator, or it says no consensus). */
  consensus?: (positions: unknown[], round: number) => boolean;
  parseVerdict?: (output: unknown) => DebateVerdict;
  /** Debaters' input (e.g. a prompt for agents); default `DebaterInput`. */
  debaterInput?: (input: DebaterInput) => unknown;
  moderatorInput?: (input: ModeratorInput) => unknown;
}

/**
 * Debaters argue for up to `maxRounds` rounds, each seeing the earlier rounds; a moderator
 * judges each round, and the debate stops early once there is consensus. Every position and
 * verdict is a journaled step.
 */
export class DebateOperator<I = JsonValue> implements Operator<I, DebateOutcome> {
  readonly name: string;
  private readonly options: DebateOperatorOptions;

  constructor(options: DebateOperatorOptions) {
    this.name = checkOperatorName(options?.name);
    if (!Array.isArray(options.debaters) || options.debaters.length < 2) throw new InvalidArgumentError('debaters', 'a debate needs at least two debaters');
    options.debaters.forEach((d, i) => checkOperator(d, `debaters[${i}]`));
    if (options.moderator !== undefined) checkOperator(options.moderator, 'moderator');
    checkPositiveInt(options.maxRounds, 'maxRounds');
    if (options.moderator === undefined && options.consensus === undefined) throw new InvalidArgumentError('moderator', 'a debate needs a moderator or a consensus function');
    this.options = { ...options };
  }

  async execute(topic: I, ctx: OperatorContext): Promise<OperatorResult<DebateOutcome>> {
    const { debaters, moderator } = this.options;
    const maxRounds = this.options.maxRounds ?? 3;
    const parse = this.options.parseVerdict ?? parseVerdict;
    const transcript: DebateRound[] = [];
    const all: Array<OperatorResult<unknown>> = [];
    let consensus = false;
    let answer: unknown;
    for (let round = 1; round <= maxRounds && !consensus; round++) {
      const history = [...transcript];
      const ids = ctx.reserveMany(debaters.length);
      const moderatorId = ctx.reserve();
      const spoken = await runConcurrently(
        debaters.length,
        (i, signal) => {
          const raw: DebaterInput<I> = { topic, round, debater: i, history };
          return ctx.run(debaters[i]!, this.options.debaterInput ? this.options.debaterInput(raw) : raw, { at: ids[i]!, signal });
        },
        { signal: ctx.signal },
      );
      all.push(...spoken);
      const positions = spoken.map((s) => s.output);
      let verdict: DebateVerdict | undefined;
      if (moderator) {
        const raw: ModeratorInput<I> = { topic, round, positions, history };
        const judged = await ctx.run(moderator, this.options.moderatorInput ? this.options.moderatorInput(raw) : raw, { at: moderatorId });
        all.push(judged);
        verdict = parse(judged.output);
      }
      transcript.push({ round, positions, verdict });
      consensus = verdict?.consensus === true || (this.options.consensus?.(positions, round) ?? false);
      answer = verdict?.answer ?? (consensus ? positions[0] : (verdict?.summary ?? positions));
    }
    return { output: { answer: answer ?? null, consensus, rounds: transcript.length, transcript }, usage: sumUsage(all), metadata: { rounds: transcript.length, consensus } };
  }
}

/**
 * Reads a moderator's verdict: `{ consensus, answer?, summary? }`; JSON text of it; or text
 * starting with `CONSENSUS:` (the rest is the answer) — any other text is a summary without consensus.
 */
export function parseVerdict(output: unknown): DebateVerdict {
  if (typeof output === 'object' && output !== null && typeof (output as { consensus?: unknown }).consensus === 'boolean') {
    const o = output as { consensus: boolean; answer?: unknown; summary?: unknown };
    return { consensus: o.consensus, answer: o.answer, summary: typeof o.summary === 'string' ? o.summary : undefined };
  }
  if (typeof output !== 'string') return { consensus: false, summary: JSON.stringify(output ?? null) };
  const text = output.trim();
  if (text.startsWith('{')) {
    try {
      return parseVerdict(JSON.parse(text) as unknown);
    } catch {
      // Plain text.
    }
  }
  const match = /^consensus\s*[:\-–]\s*([\s\S]*)$/i.exec(text);
  if (match) return { consensus: true, answer: match[1]!.trim() };
  return { consensus: false, summary: text };
}
