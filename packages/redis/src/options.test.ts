import { InMemoryEventBus, InMemoryJobStore, type JobStore } from '@baton/agent-runtime';
import { InvalidArgumentError } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { RedisActionStore } from './actions/redis-action-store.js';
import { mapRedisError } from './errors/map-redis-error.js';
import { RedisCommandError } from './errors/redis-command-error.js';
import { RedisUnavailableError } from './errors/redis-unavailable-error.js';
import { RedisJobCache } from './jobs/redis-job-cache.js';
import { RedisSignalChannel } from './signals/redis-signal-channel.js';
import { RedisStreamsAdapter } from './streams/redis-streams-adapter.js';

// Option checks run before any connection is opened: no Redis needed.
const url = 'redis://127.0.0.1:6379';

function invalid(fn: () => unknown, argument: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).argument).toBe(argument);
}

describe('options', () => {
  it('needs exactly one of client or url, and a redis URL', () => {
    invalid(() => new RedisActionStore({}), 'client');
    invalid(() => new RedisActionStore({ url, client: {} as never }), 'client');
    invalid(() => new RedisActionStore({ url: 'http://localhost:6379' }), 'url');
    invalid(() => new RedisActionStore({ url: 'not a url' }), 'url');
    invalid(() => new RedisActionStore({ client: { not: 'a client' } as never }), 'client');
    invalid(() => new RedisSignalChannel({ url, connectionName: 'has space' }), 'connectionName');
  });

  it('checks each adapter option', () => {
    invalid(() => new RedisActionStore({ url, keyPrefix: 3 as never }), 'keyPrefix');
    invalid(() => new RedisSignalChannel({ url, channelPrefix: 1 as never }), 'channelPrefix');
    const store: JobStore = new InMemoryJobStore();
    invalid(() => new RedisJobCache({ url, store: {} as never }), 'store');
    invalid(() => new RedisJobCache({ url, store, ttlMs: 0 }), 'ttlMs');
    invalid(() => new RedisJobCache({ url, store, ttlMs: 1.5 }), 'ttlMs');
    const bus = new InMemoryEventBus();
    invalid(() => new RedisStreamsAdapter(undefined as never, { url }), 'eventBus');
    invalid(() => new RedisStreamsAdapter(bus, { url, maxLen: 0 }), 'maxLen');
    invalid(() => new RedisStreamsAdapter(bus, { url, batchSize: -1 }), 'batchSize');
    invalid(() => new RedisStreamsAdapter(bus, { url, maxInFlightBatches: 2.5 }), 'maxInFlightBatches');
    invalid(() => new RedisStreamsAdapter(bus, { url, partition: 'job' as never }), 'partition');
    invalid(() => new RedisStreamsAdapter(bus, { url, streamPrefix: '' }), 'streamPrefix');
    invalid(() => new RedisStreamsAdapter(bus, { url, maxBuffered: 0 }), 'maxBuffered');
  });
});

describe('mapRedisError', () => {
  it('types connection failures as retryable and server refusals as not', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    expect(mapRedisError(refused, 'op')).toMatchObject({ code: 'redis_unavailable', retryable: true, driverCode: 'ECONNREFUSED', operation: 'op' });
    const retries = Object.assign(new Error('Reached the max retries per request limit (which is 5).'), { name: 'MaxRetriesPerRequestError' });
    expect(mapRedisError(retries, 'op')).toBeInstanceOf(RedisUnavailableError);
    expect(mapRedisError(new Error('Connection is closed.'), 'op')).toBeInstanceOf(RedisUnavailableError);
    const loading = Object.assign(new Error('LOADING Redis is loading the dataset in memory'), { name: 'ReplyError' });
    expect(mapRedisError(loading, 'op')).toMatchObject({ code: 'redis_unavailable', driverCode: 'LOADING' });
    const wrongType = Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), { name: 'ReplyError' });
    expect(mapRedisError(wrongType, 'op')).toBeInstanceOf(RedisCommandError);
    expect(mapRedisError(wrongType, 'op')).toMatchObject({ retryable: false });
    const other = new TypeError('x');
    expect(mapRedisError(other, 'op')).toBe(other);
  });
});
