import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import { InvalidArgumentError } from '@baton/llm-client';

export interface ListenOptions {
  /** Default 0: any free port (read it from `url` or `port`). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** How long `close()` lets open requests finish before cutting them. Default 1,000 ms. */
  closeGraceMs?: number;
}

/** A running HTTP server. */
export interface ListeningServer {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The Node HTTP server underneath (for its events; prefer `close()`). */
  readonly server: Server;
  /** Stops accepting connections, ends the server's event streams, and resolves once closed. */
  close(): Promise<void>;
}

/** Serves a fetch handler on Node's HTTP server. `beforeClose` runs first in `close()` (ending open streams). */
export async function listenOn(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  options: ListenOptions,
  beforeClose: () => void,
  onUpgrade?: (request: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<ListeningServer> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError('port', 'must be an integer from 0 to 65535');
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') throw new InvalidArgumentError('host', 'must be a host name or address');
  const graceMs = options.closeGraceMs ?? 1_000;
  if (!(graceMs >= 0)) throw new InvalidArgumentError('closeGraceMs', 'must be ≥ 0');

  // No global Request/Response override: a library must not change the process's globals.
  const server = createAdaptorServer({ fetch, overrideGlobalObjects: false }) as Server;
  if (onUpgrade) server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' || host.includes(':') ? `[${address.address}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    host,
    server,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        beforeClose();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
