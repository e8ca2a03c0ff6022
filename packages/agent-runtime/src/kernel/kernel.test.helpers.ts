import { InMemoryActionStore } from '../actions/in-memory-action-store.js';
import { InMemorySignalChannel } from '../actions/in-memory-signal-channel.js';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import { InMemoryJobStore } from '../jobs/in-memory-job-store.js';
import { InMemoryJournalStore } from '../journal/in-memory-journal-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { RuntimeStores } from './runtime-kernel.js';

/** Fresh in-memory stores for one kernel test. */
export function memoryStores(): RuntimeStores {
  return { jobs: new InMemoryJobStore(), journal: new InMemoryJournalStore(), events: new InMemoryEventBus(), actions: new InMemoryActionStore(), signals: new InMemorySignalChannel() };
}

/** A queue whose heartbeats never arrive: the worker behind it looks dead to everyone else. */
export function silentHeartbeats(queue: JobQueue): JobQueue {
  return new Proxy(queue, {
    get(target, prop, receiver) {
      if (prop === 'heartbeat') return () => new Promise(() => {});
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
