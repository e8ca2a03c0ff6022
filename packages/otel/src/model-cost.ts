import type { RuntimeEvent } from '@baton/agent-runtime';
import type { Cost, PriceTable } from '@baton/llm-client';

/** A completed model call's cost from the price table; undefined when unpriced or without usage or provider. */
export function modelCost(prices: PriceTable, event: RuntimeEvent<'model.completed'>): Cost | undefined {
  const { usage, provider, model } = event.data;
  if (!usage || provider === undefined) return undefined;
  return prices.cost(provider, model, {
    inputTokens: usage.inputTokens ?? 0,
    outputTokens: usage.outputTokens ?? 0,
    cachedInputTokens: 0,
    totalTokens: usage.totalTokens ?? 0,
  });
}
