/**
 * Browser tests: the customer chat (`/`) and the operator console (`/console`) in Chromium, two pages of one
 * browser, against the local face running as a child process. Screenshots go to test-artifacts/.
 * Needs Debian's chromium (`apt-get install -y chromium`); CHROMIUM_PATH overrides the location.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFaceProcess, startLocalFaceProcess } from '../support/localFaceProcess';
import { OPERATOR_TEST_ENV, TEST_ADMIN_PASSWORD } from '../support/operatorLogin';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = resolve(import.meta.dirname, '..', '..', 'test-artifacts');
const WAIT = { timeout: 15_000 };
const XSS = '<img src=x onerror=alert(1)>';

/**
 * Script errors, console errors and JavaScript dialogs a page raised; all should stay empty. 401 answers
 * (the console's requests before sign-in) are listed apart, as Chromium logs each as a console error.
 */
interface PageProblems {
  readonly errors: string[];
  readonly dialogs: string[];
  readonly unauthorized: string[];
}

function watch(page: Page): PageProblems {
  const problems: PageProblems = { errors: [], dialogs: [], unauthorized: [] };
  page.on('pageerror', (error) => problems.errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() !== 'error' || /status of 401 \(Unauthorized\)/.test(message.text())) return;
    problems.errors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 500) problems.errors.push(`${response.status()} ${response.url()}`);
    if (response.status() === 401) problems.unauthorized.push(new URL(response.url()).pathname);
  });
  page.on('dialog', (dialog) => {
    problems.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return problems;
}

describe('chat and operator console in Chromium', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-browser-'));
  let face: LocalFaceProcess | undefined;
  let browser: Browser | undefined;
  let chat: Page;
  let console: Page;
  let chatProblems: PageProblems;
  let consoleProblems: PageProblems;
  let unauthorizedBeforeSignIn: string[] = [];
  /** GET /api/cases requests of the console (queue loads: polling, or a refresh after reconnecting). */
  let queueLoads = 0;
  let queueLoadsBeforeEscalation = 0;
  let caseId = '';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` ` +
          'or point CHROMIUM_PATH at a Chromium binary.',
      );
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    [face, browser] = await Promise.all([
      startLocalFaceProcess(dataDir, OPERATOR_TEST_ENV),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
    // Separate contexts: the customer and the operator share no storage, as on two machines.
    chat = await (await browser.newContext({ viewport: { width: 480, height: 860 } })).newPage();
    console = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    chat.setDefaultTimeout(WAIT.timeout);
    console.setDefaultTimeout(WAIT.timeout);
    chatProblems = watch(chat);
    consoleProblems = watch(console);
    console.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/cases') queueLoads++;
    });
    await Promise.all([chat.goto(`${face.url}/`), console.goto(`${face.url}/console`)]);
  }, 90_000);

  afterAll(async () => {
    // The server's own log, for reading next to the screenshots when something failed.
    if (face) writeFileSync(join(ARTIFACTS, 'local-face.log'), face.output());
    await browser?.close();
    await face?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('asks the operator to sign in, then once for the name customers will see', async () => {
    // Prepare: the console's first request is refused, so it asks for credentials
    const login = console.getByRole('dialog', { name: 'Sign in to continue' });
    await login.waitFor(WAIT);
    await login.getByLabel('Username').fill('admin');
    await login.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
    await login.getByRole('button', { name: 'Sign in' }).click();
    await login.waitFor({ state: 'detached', ...WAIT });
    unauthorizedBeforeSignIn = [...consoleProblems.unauthorized];
    const dialog = console.getByRole('dialog', { name: 'What name should customers see?' });
    await dialog.waitFor(WAIT);
    // Act
    await dialog.getByLabel('Your name').fill('Dana');
    await dialog.getByRole('button', { name: 'Continue' }).click();
    // Assess
    await dialog.waitFor({ state: 'detached', ...WAIT });
    expect(await console.locator('#agent-name').inputValue()).toBe('Dana');
    await console.locator('#connection', { hasText: 'Live' }).waitFor(WAIT);
  });

  it('answers an FAQ question with a source citation and a confidence badge', async () => {
    // Prepare
    await chat.locator('#connection', { hasText: 'Connected' }).waitFor(WAIT);
    // Act
    await chat.locator('#message-input').fill('How do I reset a forgotten password?');
    await chat.keyboard.press('Enter');
    // Assess
    const reply = chat.locator('#chat-log .msg.bot').nth(1);
    await reply.waitFor(WAIT);
    expect(await reply.locator('.sources li').count()).toBeGreaterThan(0);
    expect(await reply.locator('.sources li').first().textContent()).toMatch(/password/i);
    expect(await reply.locator('.badge').textContent()).toMatch(/^\d{1,3}% sure$/);
    await chat.locator('#typing:empty').waitFor({ state: 'attached', ...WAIT });
  });

  it('shows an escalation notice with a case id when the customer asks for a human', async () => {
    // Prepare: the console is live; a marker on its window proves it is never reloaded
    await console.evaluate('window.__notReloaded = true');
    queueLoadsBeforeEscalation = queueLoads;
    // Act
    await chat.getByRole('button', { name: 'Talk to a human' }).click();
    // Assess
    const notice = chat.locator('#chat-log .system-note', { hasText: 'support team' });
    await notice.waitFor(WAIT);
    caseId = (await notice.locator('code.case-id').textContent()) ?? '';
    expect(caseId).toMatch(/^CS-[A-Z0-9]+$/);
    expect(await notice.textContent()).toContain(`case number is ${caseId}`);
    expect(await chat.getByRole('button', { name: 'Human requested' }).isDisabled()).toBe(true);
    await chat.locator('#typing:empty').waitFor({ state: 'attached', ...WAIT });
  });

  it('shows the new case live in the console queue without a reload', async () => {
    // Act
    const item = console.locator(`#queue [data-case-id="${caseId}"]`);
    await item.waitFor(WAIT);
    // Assess: pushed by the signed-in console socket, not found by polling
    expect(await console.evaluate('window.__notReloaded')).toBe(true);
    expect(queueLoads).toBe(queueLoadsBeforeEscalation);
    expect(await item.textContent()).toMatch(/Asked for a human/);
  });

  it('lets the operator read the handoff, take over and reply; the customer sees the agent by name', async () => {
    // Act: open the case and take it over
    await console.locator(`#queue [data-case-id="${caseId}"]`).click();
    const detail = console.locator('#detail');
    await detail.locator('h3', { hasText: 'Handoff summary' }).waitFor(WAIT);
    const summary = await detail.locator('.section', { hasText: 'Handoff summary' }).textContent();
    await detail.getByRole('button', { name: 'Take over' }).click();
    await detail.getByRole('button', { name: 'Assigned to you' }).waitFor(WAIT);
    // Act: reply as Dana
    await detail.locator('#reply-text').fill('Hello from Dana');
    await detail.getByRole('button', { name: 'Send reply' }).click();
    // Assess
    expect(summary?.replace('Handoff summary', '').trim().length).toBeGreaterThan(10);
    const agentReply = chat.locator('#chat-log .msg.agent', { hasText: 'Hello from Dana' });
    await agentReply.waitFor(WAIT);
    expect(await agentReply.locator('.speaker').textContent()).toMatch(/^Dana\b/);
    await chat.locator('#chat-log .msg.agent', { hasText: 'has joined the chat' }).waitFor(WAIT);
    await detail.locator('.transcript .msg.agent', { hasText: 'Hello from Dana' }).waitFor(WAIT);
    expect(await detail.locator('#reply-text').inputValue()).toBe('');
  });

  it('forwards customer messages to the agent without waiting for a bot reply, markup shown as text', async () => {
    // Act: markup, then a second message right after, both while a human has the conversation
    await chat.locator('#message-input').fill(XSS);
    await chat.keyboard.press('Enter');
    await chat.locator('#message-input').fill('Thanks, that helps');
    await chat.getByRole('button', { name: 'Send', exact: true }).click();
    // Assess: both reach the console live, as text
    const transcript = console.locator('#detail .transcript');
    await transcript.locator('.msg.customer', { hasText: 'Thanks, that helps' }).waitFor(WAIT);
    await transcript.locator('.msg.customer', { hasText: XSS }).waitFor(WAIT);
    await chat.locator('#chat-log .msg.customer', { hasText: XSS }).waitFor(WAIT);
    expect(await chat.locator('#chat-log img').count()).toBe(0);
    expect(await transcript.locator('img').count()).toBe(0);
    // No bot reply will come: no typing indicator, no "waiting" notes, the composer stays usable
    await chat.locator('#typing:empty').waitFor({ state: 'attached', ...WAIT });
    for (const note of await chat.locator('#chat-log .delivery').allTextContents())
      expect(note).not.toMatch(/waiting|not delivered/i);
    expect(await chat.locator('#message-input').isEditable()).toBe(true);
    // The log scrolls inside the widget; the page itself never grows past the window
    expect(await chat.evaluate('document.documentElement.scrollHeight <= innerHeight')).toBe(true);
    expect(chatProblems.dialogs).toEqual([]);
    expect(consoleProblems.dialogs).toEqual([]);
  });

  it('resolves the case and takes it off the open and assigned queues', async () => {
    // Prepare
    const detail = console.locator('#detail');
    // Act
    await detail.getByRole('button', { name: 'Resolve' }).click();
    // Assess
    await detail.locator('.badge.resolved').waitFor(WAIT);
    expect(await detail.getByRole('button', { name: 'Resolve' }).isDisabled()).toBe(true);
    expect(await detail.locator('#reply-text').isDisabled()).toBe(true);
    await console.locator(`#queue [data-case-id="${caseId}"]`).waitFor({ state: 'detached', ...WAIT });
    await console.getByRole('radio', { name: 'Resolved' }).check();
    await console.locator(`#queue [data-case-id="${caseId}"]`).waitFor(WAIT);
    await chat.screenshot({ path: join(ARTIFACTS, 'chat.png'), fullPage: true });
    await console.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true });
  });

  it('raised no script errors and no dialogs on either page, and no 401 after sign-in', () => {
    expect(chatProblems).toEqual({ errors: [], dialogs: [], unauthorized: [] });
    expect(consoleProblems).toEqual({ errors: [], dialogs: [], unauthorized: unauthorizedBeforeSignIn });
    expect(unauthorizedBeforeSignIn.length).toBeGreaterThan(0);
    for (const path of unauthorizedBeforeSignIn) expect(path).toMatch(/^\/api\/cases/);
  });
});

describe('first operator sign-in with the one-time password in Chromium', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-browser-admin-'));
  let face: LocalFaceProcess | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    // No OPERATOR_BOOTSTRAP_PASSWORD: the admin gets a one-time password, printed once.
    [face, browser] = await Promise.all([
      startLocalFaceProcess(dataDir),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await face?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('makes the admin choose a new password before the metrics page loads, then keeps the session', async () => {
    // Prepare
    const oneTime = /one-time password (\S+)/.exec(face!.output())?.[1] ?? '';
    const page = await (await browser!.newContext()).newPage();
    page.setDefaultTimeout(WAIT.timeout);
    const problems = watch(page);
    await page.goto(`${face!.url}/metrics`);
    const login = page.getByRole('dialog', { name: 'Sign in to continue' });
    await login.getByLabel('Username').fill('admin');
    await login.getByLabel('Password').fill(oneTime);
    await login.getByRole('button', { name: 'Sign in' }).click();

    // Act
    const change = page.getByRole('dialog', { name: 'Choose a new password' });
    await change.getByLabel('New password', { exact: true }).fill('my own admin passphrase');
    await change.getByLabel('Repeat new password').fill('my own admin passphrase?');
    await change.getByRole('button', { name: 'Set password' }).click();
    const mismatch = await change.getByRole('alert').textContent();
    await change.getByLabel('Repeat new password').fill('my own admin passphrase');
    await change.getByRole('button', { name: 'Set password' }).click();
    await change.waitFor({ state: 'detached', ...WAIT });

    // Assess
    expect(mismatch).toMatch(/differ/);
    await page.locator('#updated', { hasText: 'Updated' }).waitFor(WAIT);
    await page.reload();
    await page.locator('#updated', { hasText: 'Updated' }).waitFor(WAIT);
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(problems.errors).toEqual([]);
    expect(problems.dialogs).toEqual([]);
  });
});
