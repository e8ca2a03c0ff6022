import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ActionManager } from '@baton/agent-runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisActionStore } from './actions/redis-action-store.js';
import { RedisSignalChannel } from './signals/redis-signal-channel.js';
import { deleteKeys, freshPrefix, redisAvailable, REDIS_URL, testClient } from './test-helpers/environment.js';

const available = await redisAvailable();
const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(!available)('cross-process wake-up', () => {
  const prefix = freshPrefix();
  afterAll(async () => {
    const admin = testClient();
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  it('a job waiting in this process wakes within milliseconds when another process resolves its action', async () => {
    const store = new RedisActionStore({ url: REDIS_URL, keyPrefix: prefix });
    const signals = new RedisSignalChannel({ url: REDIS_URL, channelPrefix: prefix });
    // Polling every minute: within the deadline, only the signal can wake the waiter.
    const actions = new ActionManager({ store, signals, waitPollIntervalMs: 60_000 });
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(here, 'test-helpers', 'resolve-in-child.ts')], {
      cwd: join(here, '..'),
      env: { ...process.env, REDIS_URL, KEY_PREFIX: prefix },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const nextLine = async (): Promise<string> => {
      const { value, done } = await lines.next();
      if (done) throw new Error('the child process ended early');
      return value as string;
    };
    try {
      expect(await nextLine()).toBe('ready');
      const latenciesMs: number[] = [];
      for (let i = 0; i < 10; i++) {
        const scopeId = `scope-${i}`;
        const { action, resumeToken } = await actions.requireAction({ title: `Approve ${i}` }, { scopeId, principalId: 'host-a', jobId: `job-${i}`, budgets: {} });
        const woke = actions.waitForResolution(action.id, { scopeId, deadline: Date.now() + 10_000 }).then((record) => ({ record, at: performance.timeOrigin + performance.now() }));
        await new Promise((resolve) => setTimeout(resolve, 30)); // the waiter is subscribed and asleep
        child.stdin.write(`resolve ${scopeId} ${resumeToken}\n`);
        const { startedAt } = JSON.parse(await nextLine()) as { startedAt: number };
        const { record, at } = await woke;
        expect(record).toMatchObject({ status: 'resolved', resolvedBy: 'host-b' });
        latenciesMs.push(at - startedAt);
      }
      const sorted = [...latenciesMs].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] as number;
      console.info(`[redis] cross-process wake-up (resolve on B → waiter on A awake): median ${median.toFixed(2)} ms, max ${(sorted.at(-1) as number).toFixed(2)} ms`);
      expect(median).toBeLessThan(200);
    } finally {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
      await Promise.all([store.close(), signals.close()]);
    }
  });
});
