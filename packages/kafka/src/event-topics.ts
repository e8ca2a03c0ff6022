import { InvalidArgumentError } from '@baton/llm-client';
import { RUNTIME_EVENT_TYPES, type RuntimeEventType } from '@baton/agent-runtime';

/** The part of an event type before the dot: `job`, `step`, `model`, `tool`, `action`, `policy`, `budget`, `checkpoint`, `interruption`. */
export type EventCategory = RuntimeEventType extends `${infer C}.${string}` ? C : never;

/** Every category, in the order of the runtime's event types. */
export const EVENT_CATEGORIES: readonly EventCategory[] = [...new Set(RUNTIME_EVENT_TYPES.map((t) => categoryOf(t)))];

export function categoryOf(type: RuntimeEventType): EventCategory {
  return type.slice(0, type.indexOf('.')) as EventCategory;
}

/** `<prefix>.<category>`: the topic of an event type. */
export function topicOf(prefix: string, type: RuntimeEventType): string {
  return `${prefix}.${categoryOf(type)}`;
}

/** Kafka topic names: letters, digits, `.`, `_`, `-`; at most 249 characters. */
export function checkTopicPrefix(prefix: unknown): string {
  if (prefix === undefined) return 'baton.events';
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9._-]{1,200}$/.test(prefix)) {
    throw new InvalidArgumentError('topicPrefix', 'must be 1 to 200 letters, digits, dots, underscores or hyphens');
  }
  return prefix;
}

/** The topics of `categories` (default all). */
export function topicsOf(prefix: string, categories: readonly EventCategory[] = EVENT_CATEGORIES): string[] {
  for (const c of categories) {
    if (!EVENT_CATEGORIES.includes(c)) throw new InvalidArgumentError('categories', `unknown category '${String(c)}' (one of ${EVENT_CATEGORIES.join(', ')})`);
  }
  return categories.map((c) => `${prefix}.${c}`);
}
