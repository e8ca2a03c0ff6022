import type { RuntimeEvent } from '@baton/agent-runtime';

const encoder = new TextEncoder();

/**
 * One SSE message: `id:` (what `Last-Event-ID` will carry back), `event:` (the runtime event
 * type) and one `data:` line of JSON (JSON.stringify escapes newlines, so one line is enough).
 */
export function sseFrame(id: string | undefined, event: string, data: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`;
}

/**
 * Serializes each event once per server even when many streams send it (every subscriber of a
 * job receives the same frozen event object from the bus).
 */
export class FrameCache {
  readonly #json = new WeakMap<RuntimeEvent, string>();
  readonly #jobFrames = new WeakMap<RuntimeEvent, Uint8Array>();

  json(event: RuntimeEvent): string {
    let text = this.#json.get(event);
    if (text === undefined) {
      text = JSON.stringify(event);
      this.#json.set(event, text);
    }
    return text;
  }

  /** The frame of a job stream, whose ids are the event's seq. */
  jobFrame(event: RuntimeEvent): Uint8Array {
    let bytes = this.#jobFrames.get(event);
    if (bytes === undefined) {
      bytes = encoder.encode(sseFrame(String(event.seq), event.type, this.json(event)));
      this.#jobFrames.set(event, bytes);
    }
    return bytes;
  }
}
