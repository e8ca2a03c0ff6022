import { parseRuntimeEvent, type RuntimeEvent } from '@baton/agent-runtime';
import { InvalidArgumentError } from '@baton/llm-client';
import { CorruptStreamEntryError } from '../errors/corrupt-stream-entry-error.js';

/** One event read back from a stream, with the entry id to resume after or to `ack`. */
export interface StreamEntry {
  readonly id: string;
  readonly event: RuntimeEvent;
}

/** The field of a stream entry that holds the event's JSON. */
export const EVENT_FIELD = 'event';

const ENTRY_ID = /^\d+(-\d+)?$/;

/** Checks a stream entry id option (`1712345678901-0`, or `1712345678901`). */
export function checkEntryId(value: unknown, option: string): string {
  if (typeof value !== 'string' || !ENTRY_ID.test(value)) throw new InvalidArgumentError(option, "must be a stream entry id like '1712345678901-0'");
  return value;
}

/** Parses one raw entry (`[id, [field, value, …]]`) into an event, or throws `CorruptStreamEntryError`. */
export function parseStreamEntry(stream: string, id: string, fields: unknown): StreamEntry {
  if (!Array.isArray(fields)) throw new CorruptStreamEntryError({ stream, entryId: id, issue: 'the entry is gone (trimmed or deleted) or has no fields' });
  let json: unknown;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (String(fields[i]) === EVENT_FIELD) json = fields[i + 1];
  }
  if (typeof json !== 'string') throw new CorruptStreamEntryError({ stream, entryId: id, issue: `no '${EVENT_FIELD}' field` });
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new CorruptStreamEntryError({ stream, entryId: id, issue: `not valid JSON (${(error as Error).message})`, cause: error });
  }
  try {
    return { id, event: parseRuntimeEvent(value) };
  } catch (error) {
    throw new CorruptStreamEntryError({ stream, entryId: id, issue: (error as Error).message, cause: error });
  }
}

/** The entries of an `XREAD`/`XREADGROUP` reply for one stream (RESP2 arrays, or a RESP3 map flat or as an object). */
export function entriesOfReadReply(reply: unknown, stream: string): Array<[string, unknown]> {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    // RESP3 maps under ioredis's legacy mapping come flat: [stream, entries, stream, entries…].
    if (typeof reply[0] === 'string') {
      for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] === stream && Array.isArray(reply[i + 1])) return reply[i + 1] as Array<[string, unknown]>;
      return [];
    }
    for (const item of reply) {
      if (Array.isArray(item) && String(item[0]) === stream && Array.isArray(item[1])) return item[1] as Array<[string, unknown]>;
    }
    return [];
  }
  if (typeof reply === 'object') {
    const entries = (reply as Record<string, unknown>)[stream];
    return Array.isArray(entries) ? (entries as Array<[string, unknown]>) : [];
  }
  return [];
}
