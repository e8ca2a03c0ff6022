import { describeSignalChannelContract } from '../testing/signal-channel-contract.js';
import { InMemorySignalChannel } from './in-memory-signal-channel.js';

describeSignalChannelContract(async () => ({ store: new InMemorySignalChannel() }), { name: 'in-memory' });
