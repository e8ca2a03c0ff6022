/**
 * Redis adapter benchmarks against the server of REDIS_URL (default redis://127.0.0.1:6379):
 * signal publish → receive latency across two connections (two RedisSignalChannels, as on two
 * hosts), and events per second through RedisStreamsAdapter, batched and one event per round trip,
 * for events of 50 jobs and for one job's burst (a job's batches are written one at a time, in order).
 * Run: node --conditions=source --expose-gc --import tsx src/redis-adapters.bench.ts
 * Prints tables; skips with a note when Redis is unreachable; never exits non-zero on timing.
 */
import { randomBytes } from 'node:crypto';
import { InMemoryEventBus, type Signal } from '@baton/agent-runtime';
import { RedisSignalChannel, RedisStreamsAdapter } from '@baton/redis';
import { latencyRow, printTable, rssMb } from './harness.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `baton-bench:${randomBytes(4).toString('hex')}:`;
const probeOptions = { connectTimeout: 2_000, maxRetriesPerRequest: 1, retryStrategy: () => null };

async function reachable(): Promise<boolean> {
  const probe = new RedisSignalChannel({ url, redisOptions: probeOptions });
  try {
    await probe.publish(`${prefix}probe`, signal('probe'));
    return true;
  } catch (error) {
    console.log(`\n(redis-adapters benchmark skipped: Redis at ${url} is unreachable: ${(error as Error).message})`);
    return false;
  } finally {
    await probe.close();
  }
}

function signal(subjectId: string): Signal {
  return { schemaVersion: 1, kind: 'action.resolved', scopeId: 'bench', subjectId, at: Date.now() };
}

async function signalRows(): Promise<Array<Record<string, string | number>>> {
  const hostA = new RedisSignalChannel({ url, channelPrefix: prefix });
  const hostB = new RedisSignalChannel({ url, channelPrefix: prefix });
  let wake: (() => void) | undefined;
  const unsubscribe = await hostB.subscribe('wake', () => wake?.());
  const once = async (i: number): Promise<number> => {
    const received = new Promise<void>((resolve) => (wake = resolve));
    const t0 = process.hrtime.bigint();
    await hostA.publish('wake', signal(`s${i}`));
    await received;
    return Number(process.hrtime.bigint() - t0);
  };
  for (let i = 0; i < 300; i++) await once(i);
  const samples: number[] = [];
  for (let i = 0; i < 3_000; i++) samples.push(await once(i));
  await unsubscribe();
  await Promise.all([hostA.close(), hostB.close()]);
  return [latencyRow('publish (host A) → handler (host B)', samples, '≤ 10 ms cross-host wake-up (issue)', 'ms')];
}

async function streamRow(name: string, events: number, options: { batchSize: number; maxInFlightBatches: number }, jobs = 50): Promise<Record<string, string | number>> {
  const bus = new InMemoryEventBus({ maxEventsPerJob: 1_000 });
  const adapter = new RedisStreamsAdapter(bus, { url, streamPrefix: `${prefix}events`, partition: 'single', maxLen: 100_000, maxBuffered: events, ...options });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events; i++) void bus.publish({ type: 'model.delta', scopeId: 'bench', jobId: `job-${i % jobs}`, data: { model: 'm', textDelta: `token ${i}` } });
  await adapter.flush();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const { written, failed, dropped } = adapter.stats;
  await adapter.deleteStream(adapter.streamFor('bench'));
  await adapter.close();
  return { case: name, jobs, events, written, failed, dropped, 'seconds': seconds.toFixed(3), 'events/s': Math.round(written / seconds) };
}

if (await reachable()) {
  printTable('Signals over Redis pub/sub, two connections (sequential round trips)', await signalRows());
  await streamRow('warm-up', 5_000, { batchSize: 256, maxInFlightBatches: 4 });
  printTable('Events through RedisStreamsAdapter (InMemoryEventBus → XADD MAXLEN ~)', [
    await streamRow('batched: 256 per pipeline, 4 in flight', 100_000, { batchSize: 256, maxInFlightBatches: 4 }),
    await streamRow('batched: 1,000 per pipeline, 2 in flight', 100_000, { batchSize: 1_000, maxInFlightBatches: 2 }),
    await streamRow('unbatched: 1 per round trip', 5_000, { batchSize: 1, maxInFlightBatches: 1 }),
    // One job's events keep their order: its batches go one pipeline at a time, whatever is allowed in flight.
    await streamRow("one job's burst: 256 per pipeline, 4 in flight", 100_000, { batchSize: 256, maxInFlightBatches: 4 }, 1),
    await streamRow("one job's burst: 1,000 per pipeline, 2 in flight", 100_000, { batchSize: 1_000, maxInFlightBatches: 2 }, 1),
  ]);
  console.log(`\nRSS ${rssMb()} MB`);
}
