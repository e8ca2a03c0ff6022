import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage } from '../src/page-build.js';
import { createChatServer, type ChatServer } from '../src/server.js';

// The page as a person uses it, in headless Chromium: the page is built with Vite and served with
// the API by the app's own server, on the scripted model. Send, interrupt, approve, reject, inspect.
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let outDir: string;
let chat: ChatServer;
let url: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'baton-chat-page-'));
  await buildPage(outDir);
  chat = createChatServer({ staticDir: outDir, tokenDelayMs: 40 });
  url = (await chat.listen({ port: 0 })).url;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1440, height: 1200 } });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  await expectText(page.getByRole('status', { name: 'Connection' }), 'live');
});

afterAll(async () => {
  await browser?.close();
  await chat?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const answers = (): Locator => page.locator('li.msg.assistant');

async function send(text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
}

async function expectText(locator: Locator, text: string | RegExp, timeoutMs = 15_000): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: timeoutMs });
}

async function wordsShown(answer: Locator): Promise<number> {
  const text = (await answer.locator('.text').textContent()) ?? '';
  return text.split(/\s+/).filter((w) => w !== '').length;
}

/** The job as the API returns it, fetched by the page (with its cookie). */
async function jobOf(jobId: string): Promise<{ status: string; result?: { interrupted?: { partialText: string } }; metadata: { previousContext?: { jobId: string; partialText: string } } }> {
  return page.evaluate(async (id) => ((await (await fetch(`/api/jobs/${id}`)).json()) as { job: never }).job, jobId);
}

describe('the chat page in Chromium', () => {
  it('streams an answer, and a message sent meanwhile interrupts it and gets its partial text as context', async () => {
    await send('How should I plan a database migration?');
    const first = answers().nth(0);
    await first.and(page.locator('[data-status="streaming"]')).waitFor();
    // Let some of the answer stream, then interrupt it.
    await expect.poll(() => wordsShown(first), { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(15);
    await send('Actually, keep it short.');

    await first.and(page.locator('[data-status="interrupted"]')).waitFor();
    const partial = (await first.locator('.text').textContent()) ?? '';
    expect(partial).toMatch(/^Here is a careful answer to “How should I plan a database migration\?”\. First,/);
    expect(partial).not.toContain('Finally');
    await expectText(first.locator('.end-note'), `Interrupted by your next message. Kept and handed to the next answer as context: the partial answer (${partial.length} characters).`);
    await expect.poll(async () => first.getAttribute('aria-busy')).toBe('false');

    const second = answers().nth(1);
    await second.and(page.locator('[data-status="completed"]')).waitFor({ timeout: 20_000 });
    await expectText(second.locator('.context-note'), 'Continues from the interrupted answer');
    const answer = (await second.locator('.text').textContent()) ?? '';
    expect(answer).toContain('You interrupted my answer to “How should I plan a database migration?”');
    expect(answer).toContain('here is my answer to “Actually, keep it short.”');

    // What the page shows is what the server kept: the old job's partial text is the new job's context.
    const oldJob = await jobOf((await first.getAttribute('data-job-id'))!);
    const newJob = await jobOf((await second.getAttribute('data-job-id'))!);
    expect(oldJob.status).toBe('interrupted');
    expect(oldJob.result?.interrupted?.partialText).toBe(partial);
    expect(newJob.metadata.previousContext).toMatchObject({ jobId: await first.getAttribute('data-job-id'), partialText: partial });
    const words = partial.split(/\s+/).filter((w) => w !== '').length;
    expect(answer).toContain(`I had got ${words} words in`);
  });

  it('shows an approval card for the deploy tool; approving with a comment resumes the job', async () => {
    await send('Please deploy 1.4.0');
    const turn = answers().nth(2);
    await turn.and(page.locator('[data-status="waiting"]')).waitFor({ timeout: 15_000 });
    const card = turn.getByRole('region', { name: "Approve tool call 'deploy'" });
    await card.waitFor();
    expect(await card.locator('pre').textContent()).toContain('"version": "1.4.0"');
    expect(await turn.locator('.text > p').first().textContent()).toBe('I will deploy version 1.4.0 to production. That needs your approval first.');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'chat-approval.png') });
    await card.getByLabel('Comment (optional)').fill('ship it');
    await card.getByRole('button', { name: 'Approve' }).click();

    await expectText(card.getByRole('status'), 'Approved by you: “ship it”.');
    await turn.and(page.locator('[data-status="completed"]')).waitFor({ timeout: 15_000 });
    // Before the card, what the model said on asking; after it, what it said once the tool ran.
    expect(await turn.locator('.text > p').allTextContents()).toEqual(['I will deploy version 1.4.0 to production. That needs your approval first.', expect.stringMatching(/^Done: deployed 1\.4\.0 to production/)]);
    expect(await card.getAttribute('data-state')).toBe('approved');
  });

  it('rejecting with a comment resumes the job, which does not deploy and repeats the comment', async () => {
    await send('deploy 2.0.0 now');
    const turn = answers().nth(3);
    const card = turn.getByRole('region', { name: "Approve tool call 'deploy'" });
    await card.waitFor({ timeout: 15_000 });
    await card.getByLabel('Comment (optional)').fill('not on a Friday');
    await card.getByRole('button', { name: 'Reject' }).click();
    await turn.and(page.locator('[data-status="completed"]')).waitFor({ timeout: 15_000 });
    expect(await turn.locator('.text > p').last().textContent()).toBe('Understood, I did not deploy. You said: “not on a Friday”.');
    expect(await card.getAttribute('data-state')).toBe('rejected');
  });

  it('the inspector shows a job’s timeline, steps and ledger spend', async () => {
    const inspector = page.getByRole('complementary', { name: 'Job inspector' });

    // The interrupted job: its model call cut off, the interruption, nothing billed.
    const interruptedJob = (await answers().nth(0).getAttribute('data-job-id'))!;
    await answers().nth(0).getByRole('button', { name: /^Inspect job/ }).click();
    await inspector.and(page.locator(`[data-job-id="${interruptedJob}"][data-status="interrupted"]`)).waitFor();
    const cut = inspector.locator('.tl-model');
    await expectText(cut, /partial text\s*\d+ characters, kept for the next job/);
    expect(await cut.first().getAttribute('class')).toContain('st-interrupted');
    await expectText(inspector.locator('.tl-interruption'), /context passed to\s*job_/);
    await expectText(inspector.getByTestId('job-spend'), '0 model calls · 0 tokens');

    // The approved deploy: model calls with tokens and cost, the wait for approval, the tool call with its arguments.
    const deployJob = (await answers().nth(2).getAttribute('data-job-id'))!;
    await answers().nth(2).getByRole('button', { name: /^Inspect job/ }).click();
    await inspector.and(page.locator(`[data-job-id="${deployJob}"]`)).waitFor();
    const models = inspector.locator('.tl-model');
    expect(await models.count()).toBe(2);
    await expectText(models.first(), /tokens\s*\d+ in · \d+ out/);
    await expectText(models.first(), /cost\s*\$0\.\d+/);
    const action = inspector.locator('.tl-action');
    await expectText(action, /answer\s*approved/);
    await expectText(action, /comment\s*ship it/);
    await expectText(inspector.locator('.tl-tool'), /arguments\s*\{"version":"1\.4\.0","environment":"production"\}/);
    await expectText(inspector.locator('.tl-tool'), /result\s*deployed 1\.4\.0 to production/);
    expect(await inspector.locator('table.steps tbody tr').count()).toBe(4);
    await expectText(inspector.getByTestId('job-spend'), /^2 model calls · \d+ tokens/);
    await expectText(inspector.getByTestId('scope-spend'), /tokens of 200,000 · \$0\.\d+ of \$0\.50/);

    await page.screenshot({ path: join(ARTIFACTS, 'chat-e2e.png'), fullPage: true });
  });

  it('a message sent while an approval is pending interrupts that job, and its card is closed', async () => {
    await send('deploy 3.0.0');
    const waiting = answers().nth(4);
    const card = waiting.getByRole('region', { name: "Approve tool call 'deploy'" });
    await card.waitFor({ timeout: 15_000 });
    await send('Never mind, what is a lease?');
    await waiting.and(page.locator('[data-status="interrupted"]')).waitFor();
    await expectText(card.getByRole('status'), 'No longer needed: this answer was interrupted.');
    expect(await card.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await expectText(waiting.locator('.end-note'), 'Kept and handed to the next answer as context: 1 finished step.');
    const next = answers().nth(5);
    await next.and(page.locator('[data-status="completed"]')).waitFor({ timeout: 20_000 });
    await expectText(next.locator('.context-note'), '1 finished step passed on as context');

    // The inspector: the wait ended without an answer when the job was interrupted.
    await waiting.getByRole('button', { name: /^Inspect job/ }).click();
    const inspector = page.getByRole('complementary', { name: 'Job inspector' });
    await inspector.and(page.locator(`[data-job-id="${await waiting.getAttribute('data-job-id')}"]`)).waitFor();
    await expectText(inspector.locator('.tl-action.st-interrupted'), /answer\s*none: cancelled/);
  });

  it('another visitor (another cookie, another scope) cannot see or answer these jobs', async () => {
    const jobId = (await answers().nth(0).getAttribute('data-job-id'))!;
    const other = await browser.newContext();
    try {
      const stranger = await other.newPage();
      await stranger.goto(url);
      await stranger.waitForSelector('body[data-ready="true"]');
      const statuses = await stranger.evaluate(async (id) => {
        const inspect = await fetch(`/api/inspect/jobs/${id}`);
        const job = await fetch(`/api/jobs/${id}`);
        const actions = await fetch(`/api/actions?jobId=${id}`);
        return [inspect.status, job.status, actions.status];
      }, jobId);
      expect(statuses).toEqual([404, 404, 404]);
    } finally {
      await other.close();
    }
  });
});
