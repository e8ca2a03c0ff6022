import { describeEventBusContract } from '../testing/event-bus-contract.js';
import { InMemoryEventBus } from './in-memory-event-bus.js';

describeEventBusContract(
  () => {
    const bus = new InMemoryEventBus();
    return { bus, corrupt: (options) => bus.plantRawForTesting(options) };
  },
  { name: 'InMemoryEventBus' },
);
