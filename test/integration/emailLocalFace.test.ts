/**
 * The e-mail channel in the local face (child process): mail sent with nodemailer to the SMTP intake is
 * answered or escalated by the same engine and desk as chat, replies land as .eml files in DATA_DIR/outbox
 * threaded with In-Reply-To/References, a thread continues across messages, an agent's console reply goes
 * out by e-mail, and auto-replies get no answer (no mail loops).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFaceProcess, startLocalFaceProcess } from '../support/localFaceProcess';
import {
  loginOperator,
  OPERATOR_TEST_ENV,
  type OperatorLogin,
  TEST_ADMIN_PASSWORD,
} from '../support/operatorLogin';

// biome-ignore lint/suspicious/noExplicitAny: API bodies are asserted field by field
type Json = Record<string, any>;

describe('e-mail channel in the local face', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-email-'));
  const outbox = join(dataDir, 'outbox');
  let face: LocalFaceProcess;
  let operator: OperatorLogin;
  let send: (mail: object) => Promise<unknown>;
  const seen = new Set<string>();

  /** The next reply written to the outbox that mentions `inReplyTo` (bounded: 15 s). */
  async function replyTo(messageId: string) {
    for (let i = 0; i < 60; i++) {
      const files = existsSync(outbox) ? readdirSync(outbox, { withFileTypes: true }) : [];
      for (const file of files.filter((f) => f.isFile())) {
        if (seen.has(file.name)) continue;
        const raw = readFileSync(join(outbox, file.name));
        const parsed = await simpleParser(raw);
        if (parsed.inReplyTo === messageId) {
          seen.add(file.name);
          return parsed;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`no reply to ${messageId} in ${outbox}`);
  }
  async function waitForCase(caseId: string, done: (detail: Json) => boolean) {
    for (let i = 0; i < 40; i++) {
      const { body } = await api(`/api/cases/${caseId}`);
      if (done(body)) return body;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`case ${caseId} never reached the expected state`);
  }
  const outboxCount = () => readdirSync(outbox).filter((f) => f.endsWith('.eml')).length;
  const api = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${face.url}${path}`, { ...init, headers: operator.headers() });
    return { status: response.status, body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    face = await startLocalFaceProcess(dataDir, OPERATOR_TEST_ENV);
    operator = await loginOperator(face.url, 'admin', TEST_ADMIN_PASSWORD);
    const transport = createTransport({
      host: '127.0.0.1',
      port: face.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    send = (mail) => transport.sendMail({ to: 'support@example.com', ...mail });
  }, 90_000);
  afterAll(async () => {
    await face?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers an FAQ by e-mail with a threaded reply listing its sources, and keeps the thread', async () => {
    // Act 1
    await send({
      from: 'Alice <alice@example.com>',
      subject: 'Invoice question',
      messageId: '<t1-a@example.com>',
      text: 'Hello, where can I download my invoices?\n\nThanks,\nAlice\n\nSent from my iPhone',
      attachments: [
        { filename: 'screenshot.png', content: Buffer.from('not really a png'), contentType: 'image/png' },
      ],
    });
    const first = await replyTo('<t1-a@example.com>');
    const stored = readdirSync(join(dataDir, 'attachments'), { recursive: true }).map(String);

    // Assess 1
    expect(first.subject).toBe('Re: Invoice question');
    expect(first.references).toEqual('<t1-a@example.com>');
    expect(first.text).toMatch(/invoice/i);
    expect(first.text).toContain('Sources:');
    expect(first.text).not.toContain('**');
    expect(first.headers.get('auto-submitted')).toBe('auto-replied');
    expect(stored.some((path) => path.endsWith('0-screenshot.png'))).toBe(true);

    // Act 2: the customer answers the reply, quoting it; then once more
    await send({
      from: 'Alice <alice@example.com>',
      subject: 'Re: Invoice question',
      messageId: '<t1-b@example.com>',
      inReplyTo: first.messageId,
      references: ['<t1-a@example.com>', first.messageId!],
      text: `And how do I change the billing e-mail address?\n\nOn Monday SupportMax wrote:\n> ${first.text?.split('\n')[0]}`,
    });
    const second = await replyTo('<t1-b@example.com>');
    await send({
      from: 'Alice <alice@example.com>',
      subject: 'Re: Invoice question',
      messageId: '<t1-c@example.com>',
      inReplyTo: second.messageId,
      references: ['<t1-a@example.com>', first.messageId!, '<t1-b@example.com>', second.messageId!],
      text: 'Can I get invoices in another currency?',
    });
    const escalatedCase = /\[(CS-[A-Z0-9]+)\]/.exec(second.subject ?? '')?.[1];

    // Assess 2: all three mails are one conversation. If the second question went to a human, the third is
    // forwarded to them (no bot reply) and shows in the case's transcript; otherwise the bot answers again.
    expect(String(second.references)).toContain('<t1-a@example.com>');
    if (escalatedCase) {
      const detail = await waitForCase(escalatedCase, (d) =>
        d.messages.some((m: Json) => m.text.includes('another currency')),
      );
      const customerTexts = detail.messages
        .filter((m: Json) => m.role === 'customer')
        .map((m: Json) => m.text);
      expect(customerTexts).toHaveLength(3);
      expect(customerTexts[0]).toContain('download my invoices');
      expect(customerTexts[0]).not.toContain('Sent from my iPhone');
      expect(customerTexts[1]).not.toContain('SupportMax wrote');
    } else {
      const third = await replyTo('<t1-c@example.com>');
      expect(String(third.references)).toContain('<t1-a@example.com>');
      expect(third.subject).toBe('Re: Invoice question');
    }
  }, 60_000);

  it('escalates by e-mail with the case id and an SLA promise; the agent answers from the console by e-mail', async () => {
    // Act 1
    await send({
      from: 'dana@northwind-logistics.example',
      subject: 'Everything is down',
      messageId: '<t2-a@northwind-logistics.example>',
      text: 'Our whole production environment is down, nothing loads. I need a human now!',
    });
    const ack = await replyTo('<t2-a@northwind-logistics.example>');
    const caseId = /\[(CS-[A-Z0-9]+)\]/.exec(ack.subject ?? '')?.[1];

    // Assess 1
    expect(caseId).toBeDefined();
    expect(ack.text).toContain(caseId!);
    expect(ack.text).toMatch(/first personal answer within \d+ (minutes|hours)/);

    // Act 2: an agent takes the case and replies in the console
    await api(`/api/cases/${caseId}/takeover`, {
      method: 'POST',
      body: JSON.stringify({ agentName: 'Ana' }),
    });
    const reply = await api(`/api/cases/${caseId}/reply`, {
      method: 'POST',
      body: JSON.stringify({ agentName: 'Ana', text: 'Ana here, we are on it.' }),
    });
    const agentMail = await replyTo('<t2-a@northwind-logistics.example>');
    const detail = await api(`/api/cases/${caseId}`);

    // Assess 2
    expect(reply.status).toBe(201);
    expect(agentMail.text).toContain('Ana here, we are on it.');
    expect(agentMail.subject).toContain(`[${caseId}]`);
    expect(agentMail.headers.get('auto-submitted')).toBeUndefined();
    expect(detail.body.case.handoff.customer).toMatchObject({ customerId: 'CUST-1001', tier: 'enterprise' });
  }, 60_000);

  it('does not answer auto-replies or bounces', async () => {
    // Prepare
    const before = outboxCount();

    // Act
    await send({
      from: 'bob@example.com',
      subject: 'Automatic reply: Invoice question',
      messageId: '<t3-ooo@example.com>',
      headers: { 'Auto-Submitted': 'auto-replied' },
      text: 'I am out of office until Monday.',
    });
    await send({
      from: 'MAILER-DAEMON@example.com',
      subject: 'Undeliverable: Re: Invoice question',
      messageId: '<t3-bounce@example.com>',
      text: 'Delivery has failed to these recipients.',
    });
    await send({
      from: 'carol@example.com',
      subject: 'Password',
      messageId: '<t3-real@example.com>',
      text: 'How do I reset my password?',
    });
    await replyTo('<t3-real@example.com>');

    // Assess: only the real question got a reply
    expect(outboxCount()).toBe(before + 1);
  }, 60_000);
});
