/**
 * Delay before reconnection attempt `attempt` (1, 2, …): exponential from `baseMs`, capped at
 * `maxMs`, with "equal jitter" (half fixed, half random) so that many clients dropped at once
 * do not come back at once, and none comes back at once.
 */
export function backoffDelayMs(attempt: number, options: { baseMs: number; maxMs: number; random: () => number }): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + options.random() * (exponential / 2));
}
