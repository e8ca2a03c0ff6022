import { formatNanoUsd } from '@baton/llm-client';

/** Integer nano-USD as dollars for people: at least two decimals, no trailing zeros past them ("0.000224"). */
export function usd(nanoUsd: number): string {
  return `$${trimDecimals(formatNanoUsd(nanoUsd))}`;
}

/** A decimal USD string ("0.500000000") the same way. */
export function usdText(decimal: string): string {
  return `$${trimDecimals(decimal)}`;
}

function trimDecimals(decimal: string): string {
  const [whole, fraction = ''] = decimal.split('.');
  const kept = fraction.replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${kept}`;
}

/** JSON text, or any value, on one line and at most `max` characters. */
export function oneLine(value: unknown, max = 240): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** "1,234". */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
