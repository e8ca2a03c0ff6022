const WORDISH = /\s*\S+|\s+/g;

/**
 * Splits text into word-ish tokens, each a run of whitespace followed by a word, so that the
 * tokens concatenate back to the text exactly ("Hello, world" -> ["Hello,", " world"]).
 */
export function tokenizeText(text: string): string[] {
  return text.match(WORDISH) ?? [];
}

/**
 * Splits a JSON argument string into fragments of at most `size` UTF-16 units, never inside a
 * surrogate pair, as providers stream tool-call arguments.
 */
export function fragmentArguments(json: string, size = 8): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < json.length) {
    let end = Math.min(start + size, json.length);
    const last = json.charCodeAt(end - 1);
    if (end < json.length && last >= 0xd800 && last <= 0xdbff) end += 1;
    out.push(json.slice(start, end));
    start = end;
  }
  return out;
}

/** A deterministic token estimate: one token per four characters, rounded up. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}
