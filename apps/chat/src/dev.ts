import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { viteConfig } from './page-build.js';
import { createChatServer } from './server.js';

// `pnpm dev`: one port for the API (`/api/*`) and Vite's dev server (the page, reloaded on change).
const port = Number(process.env['PORT'] ?? 5173);
const host = process.env['HOST'] ?? '127.0.0.1';
const chat = createChatServer();
const api = getRequestListener(chat.app.fetch, { overrideGlobalObjects: false });
let page: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | undefined;
const http = createServer((req, res) => {
  if (req.url?.startsWith('/api/')) void api(req, res);
  else if (page) page(req, res);
  else res.writeHead(503).end('starting');
});
const { createServer: createVite } = await import('vite');
// Hot reload rides on the same HTTP server (no second port).
const vite = await createVite(viteConfig({ server: { middlewareMode: true, hmr: { server: http } }, appType: 'spa' }));
page = vite.middlewares;
http.listen(port, host, () => console.log(`Baton chat (dev) on http://${host}:${port}`));
const stop = (): void => {
  http.close();
  void Promise.all([vite.close(), chat.close()]).then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
