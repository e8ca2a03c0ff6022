import { formatNanoUsd, InvalidArgumentError } from '@baton/llm-client';

/**
 * Converts USD given as a decimal string ("12.50") or a number (12.5) to integer nano-USD,
 * exactly: the digits are read as text, never multiplied as floats. At most 9 decimals.
 */
export function parseUsdToNano(value: string | number, name = 'usd'): number {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : typeof value === 'string' ? value.trim() : '';
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) throw new InvalidArgumentError(name, `must be a non-negative USD amount with at most 9 decimals, got '${String(value)}'`);
  const nano = BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  if (nano > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidArgumentError(name, 'amount too large');
  return Number(nano);
}

/** Integer nano-USD as a decimal string with 9 decimals ("0.500000000"). */
export function nanoToUsd(nanoUsd: number): string {
  return formatNanoUsd(nanoUsd);
}
