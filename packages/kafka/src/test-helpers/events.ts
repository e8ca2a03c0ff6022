import { parseRuntimeEvent, type InMemoryEventBus, type RuntimeEvent } from '@baton/agent-runtime';
import type { StoredMessage } from './kafka-double.js';

/** Publishes `count` events for each job, interleaved: j0#1, j1#1, …, j0#2, … (kinds cycle over categories). */
export async function publishInterleaved(bus: InMemoryEventBus, jobs: readonly string[], count: number, scopeId = 'acme'): Promise<void> {
  for (let i = 0; i < count; i++) {
    for (const jobId of jobs) {
      if (i % 3 === 0) await bus.publish({ type: 'checkpoint.saved', jobId, scopeId, data: { seq: i, key: `${jobId}:${i}` } });
      else if (i % 3 === 1) await bus.publish({ type: 'model.delta', jobId, scopeId, data: { model: 'm', textDelta: String(i) } });
      else await bus.publish({ type: 'step.started', jobId, scopeId, data: { seq: i, key: `${jobId}:${i}`, kind: 'custom', name: 'n' } });
    }
  }
}

/** The events in stored messages, parsed. */
export function eventsOf(messages: readonly StoredMessage[]): RuntimeEvent[] {
  return messages.map((m) => parseRuntimeEvent(JSON.parse(m.value!)));
}

/** Lets the bus hand over what it queued. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
