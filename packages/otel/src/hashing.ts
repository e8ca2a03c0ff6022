/** FNV-1a over the UTF-16 code units of `text`, from `seed`: fast, stable across hosts, not cryptographic. */
export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche, so that ids differing in one character spread over the whole range.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) determined by `text` alone. */
export function unitInterval(text: string): number {
  return fnv1a32(text) / 0x1_0000_0000;
}

/** 16 lowercase hex digits determined by `text`, never all zeros (a valid span id). */
export function spanIdOf(text: string): string {
  const hi = fnv1a32(text, 0x811c9dc5);
  const lo = fnv1a32(text, 0x050c5d1f) || 1;
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
