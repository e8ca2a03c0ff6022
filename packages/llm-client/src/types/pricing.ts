import type { Usage } from './messages.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';

/**
 * Money is counted in integer nano-dollars (1e-9 USD), so sums are exact; `usd` is the same
 * amount as a decimal string (what a ledger stores in a NUMERIC column).
 */
export interface Cost {
  nanoUsd: number;
  usd: string;
}

/** Prices in USD per million tokens, as decimal strings or numbers ("2.50" or 2.5). */
export interface ModelPrice {
  inputPerMillion: string | number;
  outputPerMillion: string | number;
  cachedInputPerMillion?: string | number;
}

/** Keys are `provider:model`; `*` matches any run of characters (`openai:gpt-4o*`). */
export type PriceTableInit = Record<string, ModelPrice>;

interface CompiledPrice {
  pattern: RegExp;
  specificity: number;
  input: number;
  output: number;
  cachedInput: number;
}

/** A price table the user can extend; the most specific matching pattern wins. */
export class PriceTable {
  private readonly entries: CompiledPrice[] = [];
  private readonly memo = new Map<string, CompiledPrice | null>();

  constructor(init: PriceTableInit = {}) {
    this.extend(init);
  }

  extend(init: PriceTableInit): this {
    for (const [key, price] of Object.entries(init)) {
      const input = nanoPerToken(price.inputPerMillion, `${key}.inputPerMillion`);
      const output = nanoPerToken(price.outputPerMillion, `${key}.outputPerMillion`);
      const cachedInput = price.cachedInputPerMillion === undefined ? input : nanoPerToken(price.cachedInputPerMillion, `${key}.cachedInputPerMillion`);
      const pattern = new RegExp(`^${key.split('*').map(escapeRegExp).join('.*')}$`);
      this.entries.push({ pattern, specificity: key.replaceAll('*', '').length, input, output, cachedInput });
    }
    this.entries.sort((a, b) => b.specificity - a.specificity);
    this.memo.clear();
    return this;
  }

  /** The cost of `usage` on `provider:model`, or undefined when the table has no price for it. */
  cost(provider: string, model: string, usage: Usage): Cost | undefined {
    const key = `${provider}:${model}`;
    let price = this.memo.get(key);
    if (price === undefined) {
      price = this.entries.find((e) => e.pattern.test(key)) ?? null;
      this.memo.set(key, price);
    }
    if (price === null) return undefined;
    const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
    const nanoUsd = (usage.inputTokens - cached) * price.input + cached * price.cachedInput + usage.outputTokens * price.output;
    return { nanoUsd, usd: formatNanoUsd(nanoUsd) };
  }
}

/** Default prices (USD per million tokens); extend or override with `PriceTable.extend`. */
export const DEFAULT_PRICES: PriceTableInit = {
  'openai:gpt-4o': { inputPerMillion: '2.50', outputPerMillion: '10.00', cachedInputPerMillion: '1.25' },
  'openai:gpt-4o-mini*': { inputPerMillion: '0.15', outputPerMillion: '0.60', cachedInputPerMillion: '0.075' },
  'openai:gpt-4.1*': { inputPerMillion: '2.00', outputPerMillion: '8.00', cachedInputPerMillion: '0.50' },
  'openai:gpt-4.1-mini*': { inputPerMillion: '0.40', outputPerMillion: '1.60', cachedInputPerMillion: '0.10' },
  'anthropic:claude-sonnet-4*': { inputPerMillion: '3.00', outputPerMillion: '15.00', cachedInputPerMillion: '0.30' },
  'anthropic:claude-opus-4*': { inputPerMillion: '15.00', outputPerMillion: '75.00', cachedInputPerMillion: '1.50' },
  'anthropic:claude-haiku-4*': { inputPerMillion: '1.00', outputPerMillion: '5.00', cachedInputPerMillion: '0.10' },
  'scripted:*': { inputPerMillion: '1.00', outputPerMillion: '2.00' },
};

/** "2.50" per million tokens -> 2500 nano-USD per token, exactly. */
function nanoPerToken(value: string | number, name: string): number {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const m = /^(\d+)(?:\.(\d{1,3}))?$/.exec(text);
  if (!m) throw new InvalidArgumentError(name, `price must be a non-negative decimal with at most 3 decimals per million tokens, got '${text}'`);
  const whole = Number(m[1]);
  const frac = Number((m[2] ?? '').padEnd(3, '0'));
  return whole * 1000 + frac;
}

export function formatNanoUsd(nanoUsd: number): string {
  const negative = nanoUsd < 0;
  const abs = BigInt(Math.round(Math.abs(nanoUsd)));
  const whole = abs / 1_000_000_000n;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0');
  return `${negative ? '-' : ''}${whole}.${frac}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
