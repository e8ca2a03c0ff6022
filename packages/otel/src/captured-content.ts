/** A captured value as a span attribute: strings as they are, anything else as JSON, cut to `maxLength` characters. */
export function contentAttribute(value: unknown, maxLength: number): string | undefined {
  if (value === undefined) return undefined;
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > maxLength ? text.slice(0, maxLength) : text;
}

/** Streamed text as `gen_ai.output.messages` (one assistant message with one text part). */
export function outputMessages(text: string, finishReason: string | undefined, maxLength: number): string | undefined {
  const message: Record<string, unknown> = { role: 'assistant', parts: [{ type: 'text', content: text }] };
  if (finishReason !== undefined) message['finish_reason'] = finishReason;
  return contentAttribute([message], maxLength);
}
