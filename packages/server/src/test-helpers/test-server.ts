import { createBatonServer, type BatonServer } from '../server/create-baton-server.js';
import type { BatonServerOptions } from '../server/server-options.js';
import type { ListeningServer } from '../server/listen.js';
import { trustHeaderAuth } from '../auth/trust-header-auth.js';
import { apiClient } from './http-client.js';
import { testKernel, type TestKernelOptions } from './test-kernel.js';

export interface TestServer {
  server: BatonServer;
  listening: ListeningServer;
  url: string;
  call: ReturnType<typeof apiClient>;
  close(): Promise<void>;
}

/** A server on 127.0.0.1 over a scripted-model kernel, with the dev header auth. */
export async function startTestServer(options: { kernel?: TestKernelOptions } & Partial<Omit<BatonServerOptions, 'kernel'>> = {}): Promise<TestServer> {
  const { kernel, ...rest } = options;
  const server = createBatonServer({ authenticate: trustHeaderAuth(), ...rest, kernel: testKernel(kernel) });
  const listening = await server.listen();
  return {
    server,
    listening,
    url: listening.url,
    call: apiClient(listening.url),
    close: async () => {
      await listening.close();
      server.close();
      await server.kernel.close();
    },
  };
}

export const scopeHeaders = (scope = 'tenant-a', principal = 'alice'): Record<string, string> => ({ 'x-baton-scope': scope, 'x-baton-principal': principal });
