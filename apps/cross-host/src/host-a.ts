/**
 * Host A: starts the release job and runs it until the deploy needs a person's approval. The
 * job is then persisted as waiting and this process exits; the approval request (the resume
 * token a real system would put in an e-mail or a chat message) is left for host B.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RuntimeKernel } from '@baton/agent-runtime';
import { TASK, createModel, createReleaseAgent, releasePolicy } from './release-agent.js';
import { DEMO_SCOPE, dataDirOf, openStores, type PendingApproval } from './stores.js';
import { color, ms } from './timeline.js';

const dataDir = dataDirOf();
const t0 = performance.now();
const stores = await openStores(dataDir);
const tOpen = performance.now();
const { model, label } = await createModel();
const { agent, engine } = createReleaseAgent(model, dataDir);
let approval: { actionId: string; resumeToken: string; stepKey: string } | undefined;
const kernel = RuntimeKernel.create({ engine, agent, stores, policy: releasePolicy(), hostId: 'host-a', onActionRequired: (a) => (approval = a) });

console.log(color.bold(`\n[host A] pid ${process.pid} · ${stores.label} · ${label}`));
console.log(`[host A] task: ${TASK}`);
const tExec = performance.now();
const handle = await kernel.execute({ ...DEMO_SCOPE, input: TASK, idempotencyKey: `release-1.5.0-${process.env['BATON_DEMO_RUN'] ?? 'manual'}` });
const job = await handle.settled();
const tPaused = performance.now();

if (job.status !== 'waiting_for_action' || !approval) {
  console.error(`[host A] expected the job to wait for approval, but it is ${job.status}${job.error ? `: ${job.error.message}` : ''}`);
  process.exit(1);
}
const pending: PendingApproval = { jobId: job.id, scopeId: job.scopeId, actionId: approval.actionId, resumeToken: approval.resumeToken, timings: { openStoresMs: tOpen - t0, pauseMs: tPaused - tExec } };
await writeFile(join(dataDir, 'pending-approval.json'), JSON.stringify(pending, null, 2));
console.log(`[host A] the approver gets a single-use resume token (only its hash is stored): ${approval.resumeToken.slice(0, 6)}…`);
console.log(`[host A] job ${job.id} is waiting for approval (${approval.actionId}); persisted ${ms(tPaused - tExec)} after execute.`);
console.log('[host A] exiting: the job holds no process and no memory while it waits.');
await kernel.close();
await stores.close();
