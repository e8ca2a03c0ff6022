import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicErrorBody, anthropicJson, anthropicSse, anthropicStreamError } from './wire-anthropic.js';
import { openaiErrorBody, openaiJson, openaiSse, openaiStreamError } from './wire-openai.js';
import type { WireAnswer, WireFormat, WireHandler, WireRequest, WireResponse } from './wire-types.js';

export interface WireServerOptions {
  /** Computes responses when the queue is empty. Without one, an empty queue answers 500. */
  handler?: WireHandler;
}

/**
 * A local HTTP server that speaks the OpenAI Chat Completions and Anthropic Messages wire
 * formats (JSON and SSE), so the official SDK clients can be tested through `baseURL`.
 */
export interface WireServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `baseURL` for the `openai` client (`<url>/v1`). */
  readonly openaiBaseURL: string;
  /** `baseURL` for the `@anthropic-ai/sdk` client (`<url>`). */
  readonly anthropicBaseURL: string;
  /** Every request received, in order. */
  readonly requests: WireRequest[];
  /** Queues responses, used one per request in order (before the handler). */
  enqueue(...responses: WireResponse[]): void;
  /** Resolves once `count` requests have arrived in total (rejects after `timeoutMs`, default 5000). */
  waitForRequests(count: number, timeoutMs?: number): Promise<WireRequest[]>;
  /** Replaces the handler used when the queue is empty. */
  setHandler(handler: WireHandler | undefined): void;
  /** Closes every connection and the server. */
  close(): Promise<void>;
}

interface MutableWireRequest extends WireRequest {
  closedEarly: boolean;
  cutByServer: boolean;
}

export async function startWireServer(options: WireServerOptions = {}): Promise<WireServer> {
  const queue: WireResponse[] = [];
  const requests: WireRequest[] = [];
  let handler = options.handler;
  const waiters = new Set<() => void>();

  const server = createServer((req, res) => {
    void serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`wire server failure: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let body: unknown = rawBody;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      // keep the raw text
    }
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const record: MutableWireRequest = {
      index: requests.length,
      method: req.method ?? 'GET',
      path,
      format: formatOf(path),
      headers: flattenHeaders(req),
      body,
      stream: typeof body === 'object' && body !== null && (body as { stream?: unknown }).stream === true,
      closedEarly: false,
      cutByServer: false,
      settled,
    };
    requests.push(record);
    for (const wake of waiters) wake();
    res.on('close', () => {
      if (!res.writableFinished && !record.cutByServer) record.closedEarly = true;
      settle();
    });

    if (record.format === undefined) {
      sendJson(res, 404, { error: { message: `wire server: no endpoint ${record.method} ${path}`, type: 'invalid_request_error' } }, {});
      return;
    }
    const response = queue.shift() ?? (handler ? await handler(record) : undefined);
    if (response === undefined) {
      sendError(res, record, { type: 'error', status: 500, message: 'wire server: no scripted response for this request (enqueue one or set a handler)' });
      return;
    }
    await respond(res, record, response);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openaiBaseURL: `${url}/v1`,
    anthropicBaseURL: url,
    requests,
    enqueue: (...responses) => void queue.push(...responses),
    setHandler: (next) => void (handler = next),
    waitForRequests: (count, timeoutMs = 5000) =>
      new Promise<WireRequest[]>((resolve, reject) => {
        const check = (): void => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(requests);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`wire server: ${requests.length} request(s) after ${timeoutMs} ms, expected ${count}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function respond(res: ServerResponse, record: MutableWireRequest, response: WireResponse): Promise<void> {
  switch (response.type) {
    case 'hang':
      await record.settled;
      return;
    case 'raw':
      res.writeHead(response.status ?? 200, response.headers ?? {});
      res.end(response.body);
      return;
    case 'error':
      if (response.delayMs) await pause(response.delayMs, record);
      if (!res.destroyed) sendError(res, record, response);
      return;
    case undefined:
    case 'answer':
      if (response.delayMs) await pause(response.delayMs, record);
      if (res.destroyed) return;
      if (record.stream) await streamAnswer(res, record, response);
      else sendJson(res, 200, record.format === 'openai' ? openaiJson(response, record) : anthropicJson(response, record), idHeaders(record, response.headers));
      return;
    default: {
      const unknown: never = response;
      throw new Error(`wire server: unknown response ${JSON.stringify(unknown)}`);
    }
  }
}

async function streamAnswer(res: ServerResponse, record: MutableWireRequest, answer: WireAnswer): Promise<void> {
  const events = record.format === 'openai' ? openaiSse(answer, record) : anthropicSse(answer, record);
  const streamError = answer.streamError;
  if (streamError) {
    const errorEvent = record.format === 'openai' ? openaiStreamError(streamError.type, streamError.message) : anthropicStreamError(streamError.type, streamError.message);
    events.splice(streamError.afterChunks, events.length, errorEvent);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...idHeaders(record, answer.headers) });
  res.flushHeaders();
  for (let i = 0; i < events.length; i++) {
    if (res.destroyed) return;
    if (answer.cutAfterChunks !== undefined && i >= answer.cutAfterChunks) {
      record.cutByServer = true;
      res.socket?.destroy();
      return;
    }
    if (answer.hangAfterChunks !== undefined && i >= answer.hangAfterChunks) {
      await record.settled;
      return;
    }
    if (i > 0 && answer.chunkDelayMs) await pause(answer.chunkDelayMs, record);
    if (res.destroyed) return;
    await new Promise<void>((resolve) => res.write(events[i]!, () => resolve()));
  }
  if (answer.cutAfterChunks !== undefined && answer.cutAfterChunks >= events.length) {
    record.cutByServer = true;
    res.socket?.destroy();
    return;
  }
  res.end();
}

function sendError(res: ServerResponse, record: WireRequest, error: Extract<WireResponse, { type: 'error' }>): void {
  const headers = idHeaders(record, error.headers);
  const requestId = headers['request-id'] ?? headers['x-request-id'] ?? '';
  const body = record.format === 'anthropic' ? anthropicErrorBody(error, requestId) : openaiErrorBody(error);
  sendJson(res, error.status, body, headers);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** The provider's request-id header (`x-request-id` for OpenAI, `request-id` for Anthropic). */
function idHeaders(record: WireRequest, extra: Record<string, string> | undefined): Record<string, string> {
  const id = `req_wire_${record.index}`;
  const base: Record<string, string> = record.format === 'anthropic' ? { 'request-id': id } : { 'x-request-id': id };
  return { ...base, ...extra };
}

function formatOf(path: string): WireFormat | undefined {
  if (path.endsWith('/chat/completions')) return 'openai';
  if (path.endsWith('/messages')) return 'anthropic';
  return undefined;
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Waits `ms`, or less if the client goes away first. */
function pause(ms: number, record: WireRequest): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void record.settled.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
