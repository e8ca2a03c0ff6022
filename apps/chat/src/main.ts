import { buildPage } from './page-build.js';
import { createChatServer } from './server.js';

// `pnpm start`: builds the page, then serves it with the API on one port.
const port = Number(process.env['PORT'] ?? 8787);
const staticDir = await buildPage();
const chat = createChatServer({ staticDir });
const { url } = await chat.listen({ port, host: process.env['HOST'] ?? '127.0.0.1' });
console.log(`Baton chat on ${url}`);
const stop = (): void => void chat.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
