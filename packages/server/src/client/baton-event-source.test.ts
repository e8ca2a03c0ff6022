import type { RuntimeKernel } from '@baton/agent-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionTokenVault } from '../actions/action-token-vault.js';
import { trustHeaderAuth } from '../auth/trust-header-auth.js';
import { createBatonServer, type BatonServer } from '../server/create-baton-server.js';
import type { ListeningServer } from '../server/listen.js';
import { apiClient } from '../test-helpers/http-client.js';
import { TERMINAL } from '../test-helpers/sse-reader.js';
import { startTcpProxy } from '../test-helpers/tcp-proxy.js';
import { testKernel } from '../test-helpers/test-kernel.js';
import { scopeHeaders } from '../test-helpers/test-server.js';
import { BatonEventSource, type BatonEventSourceOptions } from './baton-event-source.js';
import type { BatonMessage, StateChange } from './connection-state.js';

const vault = new ActionTokenVault();
let kernel: RuntimeKernel;
let server: BatonServer;
let listening: ListeningServer;

function serve(port = 0): Promise<ListeningServer> {
  server = createBatonServer({ kernel, authenticate: trustHeaderAuth(), actionTokens: vault, sse: { heartbeatIntervalMs: 50 } });
  return server.listen({ port });
}

beforeAll(async () => {
  kernel = testKernel({ tokenDelayMs: 10, words: 60 })({ onActionRequired: vault.onActionRequired });
  listening = await serve();
});
afterAll(async () => {
  await listening.close();
  server.close();
  await kernel.close();
});

async function startJob(): Promise<string> {
  const r = await apiClient(listening.url)('POST', '/jobs', { body: { input: 'a long answer please' } });
  expect(r.status).toBe(201);
  return r.json.job.id as string;
}

/** Opens a source and records its messages and state changes. */
function follow(url: string, options: BatonEventSourceOptions = {}) {
  const messages: BatonMessage[] = [];
  const states: StateChange[] = [];
  const source = new BatonEventSource(url, { headers: scopeHeaders(), retryBaseMs: 20, retryMaxMs: 200, heartbeatTimeoutMs: 1_000, ...options });
  source.on('*', (m) => messages.push(m));
  source.onStateChange((s) => states.push(s));
  const closed = new Promise<StateChange>((resolve) => source.onStateChange((s) => s.state === 'closed' && resolve(s)));
  const count = (n: number) => expect.poll(() => messages.length, { timeout: 5_000, interval: 5 }).toBeGreaterThanOrEqual(n);
  return { source, messages, states, closed, count };
}

function expectEveryEventOnceInOrder(messages: BatonMessage[]): void {
  const ids = messages.filter((m) => m.id !== undefined).map((m) => Number(m.id));
  expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
  expect(TERMINAL.has(messages.at(-1)!.event)).toBe(true);
}

describe('BatonEventSource', () => {
  it('reconnects after dropped connections and resumes without gaps or duplicates; a 204 closes it', async () => {
    const jobId = await startJob();
    const f = follow(`${listening.url}/jobs/${jobId}/events`);
    await f.count(8);
    listening.server.closeAllConnections();
    await f.count(20);
    listening.server.closeAllConnections();
    const closed = await f.closed;
    expect(closed.error).toBeUndefined();
    expectEveryEventOnceInOrder(f.messages);
    expect(f.messages.at(-1)!.event).toBe('job.completed');
    const path = f.states.map((s) => s.state);
    expect(path[0]).toBe('open');
    expect(path.at(-1)).toBe('closed');
    expect(path.filter((s) => s === 'reconnecting').length).toBeGreaterThanOrEqual(2);
    expect(path.filter((s) => s === 'open').length).toBeGreaterThanOrEqual(3);
    expect(f.source.state).toBe('closed');
    expect((await kernel.getJob(jobId, 'tenant-a'))!.status).toBe('completed');
  });

  it('takes a stalled connection (no heartbeat) for dead, reconnects and resumes', async () => {
    const proxy = await startTcpProxy(listening.port);
    try {
      const jobId = await startJob();
      const f = follow(`http://127.0.0.1:${proxy.port}/jobs/${jobId}/events`, { heartbeatTimeoutMs: 300, closeWhen: (m) => TERMINAL.has(m.event) });
      await f.count(5);
      proxy.stallCurrent();
      const closed = await f.closed;
      expect(closed.error).toBeUndefined();
      const stall = f.states.find((s) => s.state === 'reconnecting');
      expect(stall?.error).toMatchObject({ code: 'heartbeat_timeout', retryable: true });
      expectEveryEventOnceInOrder(f.messages);
    } finally {
      await proxy.close();
    }
  });

  it('rides out a server restart on the same port', async () => {
    const jobId = await startJob();
    const f = follow(`${listening.url}/jobs/${jobId}/events`, { closeWhen: (m) => TERMINAL.has(m.event) });
    await f.count(6);
    const port = listening.port;
    await listening.close();
    server.close();
    await expect.poll(() => f.states.filter((s) => s.state === 'reconnecting' && s.error !== undefined).length, { timeout: 5_000, interval: 5 }).toBeGreaterThanOrEqual(1);
    listening = await serve(port);
    await f.closed;
    expectEveryEventOnceInOrder(f.messages);
    const attempts = f.states.filter((s) => s.state === 'reconnecting').map((s) => s.attempt);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(1);
    expect(f.states.filter((s) => s.state === 'reconnecting').every((s) => typeof s.delayMs === 'number')).toBe(true);
  });

  it('stops at once on a refusal that retrying cannot fix, and gives up after maxRetries', async () => {
    const missing = follow(`${listening.url}/jobs/job_missing/events`);
    const closed = await missing.closed;
    expect(closed.error).toMatchObject({ code: 'http_error', status: 404, serverCode: 'job_not_found', retryable: false });
    expect(missing.states.map((s) => s.state)).toEqual(['closed']);

    const unauthenticated = follow(`${listening.url}/jobs/job_missing/events`, { headers: {} });
    expect((await unauthenticated.closed).error).toMatchObject({ status: 401, serverCode: 'unauthenticated' });

    const proxy = await startTcpProxy(1);
    const nowhere = follow(`http://127.0.0.1:${proxy.port}/jobs/x/events`, { maxRetries: 2, retryBaseMs: 5 });
    const gaveUp = await nowhere.closed;
    await proxy.close();
    expect(gaveUp.error).toMatchObject({ code: 'reconnect_failed', attempts: 2 });
    expect(nowhere.states.map((s) => s.state)).toEqual(['reconnecting', 'reconnecting', 'closed']);
  });

  it('close() stops it for good; the job goes on', async () => {
    const jobId = await startJob();
    const f = follow(`${listening.url}/jobs/${jobId}/events`);
    await f.count(3);
    f.source.close();
    expect(f.source.state).toBe('closed');
    const seen = f.messages.length;
    const job = await (await kernel.handle(jobId, 'tenant-a'))!.settled();
    expect(job.status).toBe('completed');
    expect(f.messages.length).toBe(seen);
    expect(() => new BatonEventSource('http://x', { maxRetries: -1 })).toThrow(expect.objectContaining({ code: 'invalid_argument', argument: 'maxRetries' }));
  });
});
