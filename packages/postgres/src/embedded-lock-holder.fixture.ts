/**
 * A process that opens embedded stores on a directory and keeps them open, for the directory lock
 * tests: it stores one job, prints `{"type":"ready","pid":…}` and waits to be killed.
 * Run with `node --conditions=source --import tsx`, the directory in `BATON_DIR`.
 */
import { makeTestJobRecord } from '@baton/agent-runtime/testing';
import { createEmbeddedStores } from './create-stores.js';

const stores = await createEmbeddedStores({ dir: process.env['BATON_DIR']! });
await stores.jobs.create(makeTestJobRecord({ scopeId: 'scope-lock', id: 'job-from-child' }));
console.log(JSON.stringify({ type: 'ready', pid: process.pid }));
setInterval(() => {}, 60_000);
