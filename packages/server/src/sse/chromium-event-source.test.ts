import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire, stripTypeScriptTypes } from 'node:module';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { RUNTIME_EVENT_TYPES } from '@baton/agent-runtime';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticate } from '../auth/principal.js';
import { trustHeaderAuth } from '../auth/trust-header-auth.js';
import { createBatonServer, type BatonServer } from '../server/create-baton-server.js';
import { apiClient } from '../test-helpers/http-client.js';
import { testKernel } from '../test-helpers/test-kernel.js';

// The browser's own EventSource, and BatonEventSource as a browser loads it, against the server: the page (served by the same app that mounts
// the Baton routes under /api) collects events; authentication rides on a cookie, as a browser's would.
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const CLIENT_SOURCES = fileURLToPath(new URL('../client/', import.meta.url));
const PARSER_DIST = join(dirname(createRequire(import.meta.url).resolve('eventsource-parser/package.json')), 'dist');

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Baton SSE</title>
<style>body{font:13px system-ui;margin:16px} li{font-family:monospace} .t{color:#0a7}</style></head>
<script type="importmap">{ "imports": { "eventsource-parser": "/vendor/eventsource-parser/index.js" } }</script>
<script type="module">
import { BatonEventSource } from '/client/index.js';
window.BatonEventSource = BatonEventSource;
window.clientReady = true;
</script>
<body><h1>Baton SSE in Chromium</h1><p id="status">idle</p><ol id="log"></ol>
<script>
window.received = [];
window.follow = (url, types, stopAfter) => new Promise((resolve) => {
  const es = new EventSource(url);
  window.current = es;
  const mark = document.createElement('li');
  mark.textContent = '— new EventSource(' + url + ')';
  mark.style.listStyle = 'none';
  document.getElementById('log').appendChild(mark);
  const done = () => { es.close(); resolve(window.received.length); };
  for (const type of types) es.addEventListener(type, (e) => {
    window.received.push({ id: e.lastEventId, type: e.type, data: e.data });
    const li = document.createElement('li');
    li.textContent = e.lastEventId + ' ' + e.type;
    if (type.startsWith('job.')) li.className = 't';
    document.getElementById('log').appendChild(li);
    document.getElementById('status').textContent = 'received ' + window.received.length;
    if (stopAfter(e)) done();
  });
  es.addEventListener('error', () => { if (es.readyState === EventSource.CLOSED) done(); });
});
</script></body></html>`;

const cookieAuth: Authenticate = (request) => {
  const scope = /(?:^|;\s*)baton_scope=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
  return scope ? { scopeId: decodeURIComponent(scope), principalId: 'browser-user' } : trustHeaderAuth()(request);
};

let browser: Browser;
let page: Page;
let baton: BatonServer;
let http: Server;
let url: string;

beforeAll(async () => {
  baton = createBatonServer({ kernel: testKernel({ tokenDelayMs: 12, words: 50 }), authenticate: cookieAuth, basePath: '/api', sse: { heartbeatIntervalMs: 1_000, retryMs: 50 } });
  const app = new Hono();
  app.get('/page.html', (c) => {
    c.header('set-cookie', 'baton_scope=tenant-a; Path=/; SameSite=Strict');
    return c.html(PAGE);
  });
  // BatonEventSource as the browser gets it: its own modules (types stripped) and the parser's.
  app.get('/client/:file', (c) => {
    const name = /^([a-z-]+)\.js$/.exec(c.req.param('file'))?.[1];
    if (!name) return c.notFound();
    const code = stripTypeScriptTypes(readFileSync(join(CLIENT_SOURCES, `${name}.ts`), 'utf8'));
    return c.body(code, 200, { 'content-type': 'text/javascript' });
  });
  app.get('/vendor/eventsource-parser/:file', (c) => {
    const file = c.req.param('file');
    if (!/^[a-z-]+\.js$/.test(file)) return c.notFound();
    return c.body(readFileSync(join(PARSER_DIST, file), 'utf8'), 200, { 'content-type': 'text/javascript' });
  });
  app.route('/', baton.app);
  http = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  baton.close();
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  await baton.kernel.close();
});

async function startJob(): Promise<string> {
  const r = await apiClient(`${url}/api`)('POST', '/jobs', { body: { input: 'a long answer' } });
  expect(r.status).toBe(201);
  return r.json.job.id as string;
}

type Received = { id: string; type: string; data: string };

function checkComplete(received: Received[], jobId: string): void {
  const ids = received.map((e) => Number(e.id));
  expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
  expect(received.at(-1)!.type).toBe('job.completed');
  expect(received.filter((e) => e.type === 'model.delta').length).toBeGreaterThanOrEqual(50);
  for (const e of received) expect(JSON.parse(e.data)).toMatchObject({ jobId, seq: Number(e.id), type: e.type });
}

describe('SSE in headless Chromium', () => {
  it('disconnect mid-job, reconnect with a fresh EventSource and ?lastEventId=: every event once, in order', async () => {
    await page.goto(`${url}/page.html`);
    const jobId = await startJob();
    const types = [...RUNTIME_EVENT_TYPES];
    await page.evaluate(({ src, types }) => (window as any).follow(src, types, () => (window as any).received.length === 15), { src: `/api/jobs/${jobId}/events`, types });
    const before: Received[] = await page.evaluate(() => (window as any).received);
    expect(before).toHaveLength(15);
    expect((await baton.kernel.getJob(jobId, 'tenant-a'))!.status).toBe('running');

    const last = before.at(-1)!.id;
    await page.evaluate(
      ({ src, types }) => (window as any).follow(src, types, (e: MessageEvent) => ['job.completed', 'job.failed', 'job.cancelled'].includes(e.type)),
      { src: `/api/jobs/${jobId}/events?lastEventId=${last}`, types },
    );
    const received: Received[] = await page.evaluate(() => (window as any).received);
    checkComplete(received, jobId);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}sse-resume-chromium.png`, fullPage: true });
  });

  it('the browser reconnects by itself with the Last-Event-ID header after the server drops it, and stops on the 204', async () => {
    await page.goto(`${url}/page.html`);
    const jobId = await startJob();
    const finished = page.evaluate(({ src, types }) => (window as any).follow(src, types, () => false), { src: `/api/jobs/${jobId}/events`, types: [...RUNTIME_EVENT_TYPES] });
    await page.waitForFunction(() => (window as any).received.length >= 10);
    http.closeAllConnections();
    await page.waitForFunction(() => (window as any).received.length >= 30);
    http.closeAllConnections();
    // The stream ends after the terminal event; the browser comes back once more, gets a 204 and closes.
    await finished;
    expect(await page.evaluate(() => (window as any).current.readyState)).toBe(2);
    checkComplete(await page.evaluate(() => (window as any).received), jobId);
  });

  it('BatonEventSource in the browser reconnects after dropped connections, resumes, and reports its states', async () => {
    await page.goto(`${url}/page.html`);
    await page.waitForFunction(() => (window as any).clientReady === true);
    const jobId = await startJob();
    const finished = page.evaluate(
      (src) =>
        new Promise<{ messages: Array<{ id: string; event: string; data: string }>; states: string[] }>((resolve) => {
          const seen = { messages: [] as Array<{ id: string; event: string; data: string }>, states: [] as string[] };
          (window as any).seen = seen;
          const source = new (window as any).BatonEventSource(src, { retryBaseMs: 50, closeWhen: (m: { event: string }) => m.event === 'job.completed' });
          source.on('*', (m: { id: string; event: string; data: string }) => seen.messages.push(m));
          source.onStateChange((change: { state: string }) => {
            seen.states.push(change.state);
            if (change.state === 'closed') resolve(seen);
          });
        }),
      `/api/jobs/${jobId}/events`,
    );
    await page.waitForFunction(() => (window as any).seen?.messages.length >= 10);
    http.closeAllConnections();
    await page.waitForFunction(() => (window as any).seen.messages.length >= 30);
    http.closeAllConnections();
    const { messages, states } = await finished;
    checkComplete(messages.map((m) => ({ id: m.id, type: m.event, data: m.data })), jobId);
    expect(states.filter((s) => s === 'reconnecting').length).toBeGreaterThanOrEqual(2);
    expect(states.at(-1)).toBe('closed');
  });
});
