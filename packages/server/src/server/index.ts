export { createBatonServer, type BatonServer } from './create-baton-server.js';
export type { BatonServerOptions, BatonServerLimits, BatonServerSseOptions, BatonServerWsOptions } from './server-options.js';
export type { ListenOptions, ListeningServer } from './listen.js';
export type { ServerEnv, BeforeExecute } from './route-context.js';
