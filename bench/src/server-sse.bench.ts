/**
 * SSE delivery through @baton/server: the time from `EventBus.publish` to the event's frame
 * being read by an SSE client on localhost, with 1,000 SSE clients connected, and the memory
 * each open stream costs the server.
 *
 *   fan-out   1,000 clients follow the same job; each published event reaches all of them.
 *   spread    1,000 clients each follow their own job; each event goes to one of them.
 *
 * The clients run in a child process (so that they neither share the server's event loop nor
 * its memory figures) and read the raw HTTP stream. Publish and receive times are wall-clock
 * (`performance.timeOrigin + performance.now()`), comparable across the two processes.
 * Targets: p50 < 2 ms, p99 < 10 ms. Timing never fails the run.
 *
 * Columns: p50/p99 over every (event, client) delivery, read by the client; "last client" is
 * the time until the last of the clients read an event (fan-out); "written" is the server-side
 * time from publish until every recipient's frame was written to its socket; "server CPU /
 * event" is the server process's CPU time (all its threads, timers included) per event published.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { RuntimeKernel } from '@baton/agent-runtime';
import { createBatonServer, trustHeaderAuth } from '@baton/server';
import { fmtNs, printTable, quantile, rssMb } from './harness.js';

const CLIENTS = 1_000;
const SCOPE = 'bench';
const HEADERS = { 'x-baton-scope': SCOPE, 'x-baton-principal': 'bench' };
const nowMs = (): number => performance.timeOrigin + performance.now();

type ToClient = { cmd: 'open'; urls: string[] } | { cmd: 'collect'; expected: number } | { cmd: 'close' };
type ToServer = { ready: true } | { latenciesMs: number[]; lastByEvent: Record<string, number> } | { closed: true };

// ---- client process ---------------------------------------------------------------------

function runClients(): void {
  const sockets: http.ClientRequest[] = [];
  let latenciesMs: number[] = [];
  let lastByEvent: Record<string, number> = {};
  let onDelivery: (() => void) | undefined;
  const send = (m: ToServer) => process.send!(m);

  process.on('message', (m: ToClient) => {
    if (m.cmd === 'open') {
      let opened = 0;
      for (const url of m.urls) {
        const req = http.get(url, { headers: { ...HEADERS, accept: 'text/event-stream' }, agent: false }, (res) => {
          let buffer = '';
          let first = true;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const at = nowMs();
            if (first) {
              first = false;
              if (++opened === m.urls.length) send({ ready: true });
            }
            buffer += chunk;
            let end: number;
            while ((end = buffer.indexOf('\n\n')) !== -1) {
              const frame = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const dataAt = frame.indexOf('\ndata: ');
              if (dataAt === -1 || !frame.includes('event: model.delta')) continue;
              const event = JSON.parse(frame.slice(dataAt + 7)) as { id: string; data: { textDelta: string } };
              const sentAt = Number(event.data.textDelta);
              latenciesMs.push(at - sentAt);
              lastByEvent[event.id] = Math.max(lastByEvent[event.id] ?? 0, at - sentAt);
              onDelivery?.();
            }
          });
        });
        req.on('error', () => {});
        sockets.push(req);
      }
    } else if (m.cmd === 'collect') {
      const finish = () => {
        onDelivery = undefined;
        send({ latenciesMs, lastByEvent });
        latenciesMs = [];
        lastByEvent = {};
      };
      const timeout = setTimeout(finish, 10_000);
      onDelivery = () => {
        if (latenciesMs.length >= m.expected) {
          clearTimeout(timeout);
          finish();
        }
      };
      onDelivery();
    } else if (m.cmd === 'close') {
      for (const s of sockets) s.destroy();
      sockets.length = 0;
      send({ closed: true });
      setTimeout(() => process.exit(0), 50);
    }
  });
}

// ---- server process ---------------------------------------------------------------------

function ask(child: ChildProcess, message: ToClient): Promise<ToServer> {
  return new Promise((resolve) => {
    child.once('message', (m: ToServer) => resolve(m));
    child.send(message);
  });
}

function heapMb(): { heap: number; rss: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / 1024 / 1024, rss: m.rss / 1024 / 1024 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runServer(): Promise<void> {
  const kernel = RuntimeKernel.create({
    workflows: {
      // Stays running until the kernel closes, so that its streams stay open.
      hold: (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null), { once: true })),
    },
  });
  const server = createBatonServer({ kernel, authenticate: trustHeaderAuth(), limits: { maxStreamsPerScope: CLIENTS * 2 } });
  const listening = await server.listen();
  const bus = kernel.stores.events;
  const rows: Array<Record<string, string | number>> = [];
  const memory: Array<Record<string, string | number>> = [];

  async function scenario(name: string, jobs: number, events: number, intervalMs: number, recipients: number): Promise<void> {
    const jobIds: string[] = [];
    for (let i = 0; i < jobs; i++) jobIds.push((await kernel.execute({ scopeId: SCOPE, principalId: 'bench', workflow: 'hold', input: null })).jobId);
    await sleep(50);
    const child = fork(fileURLToPath(import.meta.url), ['client'], { execArgv: process.execArgv });
    const before = heapMb();
    // Clients first receive the jobs' earlier events (job.created, job.started…), which are not timed.
    const urls = Array.from({ length: CLIENTS }, (_, i) => `${listening.url}/jobs/${jobIds[i % jobs]}/events`);
    await ask(child, { cmd: 'open', urls });
    await sleep(200);
    const after = heapMb();
    memory.push({
      case: name,
      streams: server.openStreams(),
      'heap / stream': `${(((after.heap - before.heap) * 1024) / CLIENTS).toFixed(1)} KiB`,
      'rss / stream': `${(((after.rss - before.rss) * 1024) / CLIENTS).toFixed(1)} KiB`,
    });
    // Warm-up, not measured.
    for (let i = 0; i < 20; i++) {
      await bus.publish({ type: 'model.delta', jobId: jobIds[i % jobs]!, scopeId: SCOPE, data: { model: 'bench', textDelta: String(nowMs()) } });
      await sleep(intervalMs);
    }
    await ask(child, { cmd: 'collect', expected: 20 * recipients });
    const cpu0 = process.cpuUsage();
    // Server side: from publish until every subscriber's frame was handed to its socket (the
    // streams run on microtasks, so a setImmediate after the publish comes after their writes).
    const writtenMs: number[] = [];
    for (let i = 0; i < events; i++) {
      const jobId = jobIds[Math.floor(Math.random() * jobs)]!;
      const t0 = nowMs();
      await bus.publish({ type: 'model.delta', jobId, scopeId: SCOPE, data: { model: 'bench', textDelta: String(t0) } });
      await new Promise((resolve) => setImmediate(resolve));
      writtenMs.push(nowMs() - t0);
      await sleep(intervalMs);
    }
    writtenMs.sort((a, b) => a - b);
    const result = (await ask(child, { cmd: 'collect', expected: events * recipients })) as { latenciesMs: number[]; lastByEvent: Record<string, number> };
    const cpu = process.cpuUsage(cpu0);
    await ask(child, { cmd: 'close' });
    const sorted = result.latenciesMs.sort((a, b) => a - b);
    const lastSorted = Object.values(result.lastByEvent).sort((a, b) => a - b);
    const ms = (x: number) => fmtNs(x * 1e6, 'ms');
    rows.push({
      case: name,
      clients: CLIENTS,
      events,
      deliveries: sorted.length,
      p50: ms(quantile(sorted, 0.5)),
      p99: ms(quantile(sorted, 0.99)),
      'last client p50': recipients > 1 ? ms(quantile(lastSorted, 0.5)) : '-',
      'last client p99': recipients > 1 ? ms(quantile(lastSorted, 0.99)) : '-',
      'written p50': ms(quantile(writtenMs, 0.5)),
      'written p99': ms(quantile(writtenMs, 0.99)),
      'server CPU / event': `${((cpu.user + cpu.system) / 1000 / events).toFixed(2)} ms`,
      target: 'p50 < 2 ms, p99 < 10 ms',
    });
    for (const jobId of jobIds) await kernel.cancel(jobId, SCOPE);
    await sleep(100);
  }

  // BENCH_SSE_CASE=spread|fanout runs one of them.
  const only = process.env['BENCH_SSE_CASE'];
  if (!only || only === 'spread') await scenario('spread (1 job per client)', CLIENTS, 2_000, 2, 1);
  if (!only || only === 'fanout') await scenario('fan-out (1 job, every client)', 1, 50, 100, CLIENTS);

  printTable(`SSE delivery, publish → client read, ${CLIENTS} concurrent SSE clients on localhost`, rows);
  printTable('Server memory per open SSE stream (heap after GC, and RSS)', memory);
  console.log(`\nrss at end: ${rssMb()} MB`);
  await listening.close();
  server.close();
  await kernel.close();
}

if (process.argv[2] === 'client') {
  runClients();
} else {
  await runServer();
}
