import { BudgetExceededError } from '../errors/agent-errors.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { usdToNano, validateBudget } from '../agent/budget.js';
import type { AgentBudget, AgentMiddleware, RunState } from '../agent/types.js';
import { defaultNow } from './clock.js';

export interface BudgetMiddlewareOptions {
  /** A fixed budget; by default each run's own (`state.budget`: the run's merged over the agent's). */
  budget?: AgentBudget;
  /** Clock in milliseconds; must be the agent's (default: the agent's default clock). */
  now?: () => number;
}

/**
 * Before each model call and each tool call, stops the run with `BudgetExceededError` when the
 * run's tokens, cost, turns, tool calls or runtime would go past its budget. Usage is known only
 * after a call, so a call that overshoots is let through and the next one is stopped.
 */
export function budgetMiddleware(options: BudgetMiddlewareOptions = {}): AgentMiddleware {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
  const fixed = options.budget === undefined ? undefined : validateBudget(options.budget, 'budget');
  const now = options.now ?? defaultNow;
  if (typeof now !== 'function') throw new InvalidArgumentError('now', 'must be a function');
  /** Tool calls let through per run, counted here so parallel calls are admitted one by one. */
  const admitted = new WeakMap<RunState, number>();

  return {
    name: 'budget',
    model(ctx, next) {
      const budget = fixed ?? ctx.state.budget;
      const error = checkRun(ctx.state, budget, now);
      if (error) return Promise.reject(error);
      if (budget.maxTurns !== undefined && ctx.turn > budget.maxTurns) {
        return Promise.reject(new BudgetExceededError('turns', budget.maxTurns, ctx.turn - 1));
      }
      return next(ctx);
    },
    tool(ctx, next) {
      const budget = fixed ?? ctx.state.budget;
      const error = checkRun(ctx.state, budget, now);
      if (error) return Promise.reject(error);
      if (budget.maxToolCalls !== undefined) {
        const used = admitted.get(ctx.state) ?? 0;
        if (used >= budget.maxToolCalls) return Promise.reject(new BudgetExceededError('toolCalls', budget.maxToolCalls, used));
        admitted.set(ctx.state, used + 1);
      }
      return next(ctx);
    },
  };
}

function checkRun(state: RunState, budget: Readonly<AgentBudget>, now: () => number): BudgetExceededError | undefined {
  if (budget.maxTokens !== undefined && state.usage.totalTokens >= budget.maxTokens) {
    return new BudgetExceededError('tokens', budget.maxTokens, state.usage.totalTokens);
  }
  if (budget.maxCostUsd !== undefined) {
    const limit = usdToNano(budget.maxCostUsd);
    if (state.costNanoUsd >= limit) return new BudgetExceededError('cost', limit / 1e9, state.costNanoUsd / 1e9);
  }
  if (budget.maxRuntimeMs !== undefined) {
    const elapsed = now() - state.startedAt;
    if (elapsed >= budget.maxRuntimeMs) return new BudgetExceededError('runtime', budget.maxRuntimeMs, Math.round(elapsed));
  }
  return undefined;
}
