/**
 * Host B: a different process that never saw the job. It loads the waiting job from the store,
 * shows the person what they are asked to approve, takes the answer (argv `--approve` /
 * `--reject`, an interactive prompt, or "approve" when no terminal is attached), resumes the
 * job from its journal and prints the timeline of both hosts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { RuntimeKernel } from '@baton/agent-runtime';
import { createModel, createReleaseAgent, releasePolicy } from './release-agent.js';
import { dataDirOf, openStores, type PendingApproval } from './stores.js';
import { color, ms, printTimeline } from './timeline.js';

const dataDir = dataDirOf();
const pending = JSON.parse(await readFile(join(dataDir, 'pending-approval.json'), 'utf8')) as PendingApproval;
const t0 = performance.now();
const stores = await openStores(dataDir);
const { model, label } = await createModel();
const { agent, engine } = createReleaseAgent(model, dataDir);
const kernel = RuntimeKernel.create({ engine, agent, stores, policy: releasePolicy(), hostId: 'host-b' });
console.log(color.bold(`\n[host B] pid ${process.pid} · ${stores.label} · ${label}`));

const tLoad0 = performance.now();
const job = await kernel.getJob(pending.jobId, pending.scopeId);
const action = await kernel.actions.get(pending.actionId, { scopeId: pending.scopeId });
const journal = await stores.journal.list({ jobId: pending.jobId, scopeId: pending.scopeId });
const tLoaded = performance.now();
if (!job || !action) throw new Error(`job ${pending.jobId} or its action was not found in the store`);
console.log(`[host B] loaded job ${job.id} (${job.status}, ${journal.length} journaled steps) in ${ms(tLoaded - tLoad0)}`);

const payload = action.payload as { tool?: string; arguments?: { version?: string; notes?: string } } | undefined;
console.log(color.bold(`\n  ${action.title}`));
if (action.description) console.log(`  why: ${action.description}`);
if (payload?.arguments?.notes) console.log(`\n${payload.arguments.notes.split('\n').map((l) => `    ${l}`).join('\n')}\n`);

const approved = await askApproval();
console.log(`[host B] answer: ${approved ? color.green('approve') : color.red('reject')}`);
const tResume = performance.now();
const { handle } = await kernel.resume(pending.resumeToken, approved ? { approved: true } : { approved: false, comment: 'rejected from the demo' }, { scopeId: pending.scopeId, principalId: 'dana@acme' });
const outcome = await handle!.result().then(
  (r) => ({ ok: true as const, r }),
  (e: unknown) => ({ ok: false as const, e }),
);
const tDone = performance.now();

const final = (await kernel.getJob(pending.jobId, pending.scopeId))!;
const entries = await stores.journal.list({ jobId: pending.jobId, scopeId: pending.scopeId });
printTimeline({ job: final, entries, timings: { ...pending.timings, openStoresBMs: tLoad0 - t0, loadMs: tLoaded - tLoad0, resumeToDoneMs: tDone - tResume } });
if (outcome.ok) console.log(color.bold(`\nanswer: ${(outcome.r.output as { text?: string }).text ?? ''}`));
else console.log(color.red(`\njob ended without completing: ${(outcome.e as Error).message}`));
await kernel.close();
await stores.close();
process.exit(outcome.ok ? 0 : 1);

async function askApproval(): Promise<boolean> {
  const argv = process.argv.slice(2);
  if (argv.includes('--reject')) return false;
  if (argv.includes('--approve') || !process.stdin.isTTY) return true;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = (await rl.question('  approve? [Y/n] ')).trim().toLowerCase();
  rl.close();
  return answer === '' || answer.startsWith('y');
}
