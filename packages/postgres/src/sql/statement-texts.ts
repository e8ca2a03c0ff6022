/**
 * Statement texts built from parts (another store's CTEs, an event batch), kept by a short key
 * that names their shape: each is built once, and every later call passes the same string, whose
 * hash the driver's prepared-statement lookup then finds cached (a text built anew is hashed and
 * flattened in full on every call).
 */
export class StatementTexts {
  private readonly texts = new Map<string, string>();

  /** The text for `key` (built by `build` the first time); built every time when `key` is undefined. */
  get(key: string | undefined, build: () => string): string {
    if (key === undefined) return build();
    let text = this.texts.get(key);
    if (text === undefined) {
      text = build();
      this.texts.set(key, text);
    }
    return text;
  }
}
