import { describeJobQueueContract } from '../testing/job-queue-contract.js';
import { InMemoryJobQueue } from './in-memory-job-queue.js';

describeJobQueueContract(({ now, maxClaims }) => ({ queue: new InMemoryJobQueue({ now, maxClaims }) }), { name: 'InMemoryJobQueue' });
