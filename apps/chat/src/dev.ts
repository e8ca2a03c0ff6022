import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { viteConfig } from './page-build.js';
import { createChatServer } from './server.js';

// `pnpm dev`: one port for the API (`/api/*`) and Vite's dev server (the page, reloaded on change).
const port = Number(process.env['PORT'] ?? 5173);
const host = process.env['HOST'] ?? '127.0.0.1';
const chat = createChatServer();
const { createServer: createVite } = await import('vite');
const vite = await createVite(viteConfig({ server: { middlewareMode: true }, appType: 'spa' }));
const api = getRequestListener(chat.app.fetch, { overrideGlobalObjects: false });
const http = createServer((req, res) => {
  if (req.url?.startsWith('/api/')) void api(req, res);
  else vite.middlewares(req, res);
});
http.listen(port, host, () => console.log(`Baton chat (dev) on http://${host}:${port}`));
const stop = (): void => {
  http.close();
  void Promise.all([vite.close(), chat.close()]).then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
