import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** From now on, bytes from the server to the clients connected so far are swallowed: their connections stall, open but silent. */
  stallCurrent(): void;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 to `targetPort`, for tests that need a connection that stalls. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const live = new Set<{ client: net.Socket; upstream: net.Socket; stalled: boolean }>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const conn = { client, upstream, stalled: false };
    live.add(conn);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (!conn.stalled) client.write(d);
    });
    const end = () => {
      live.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stallCurrent: () => {
      for (const conn of live) conn.stalled = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const conn of live) {
          conn.client.destroy();
          conn.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
