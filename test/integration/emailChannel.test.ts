/**
 * The e-mail channel end to end: SMTP intake (local face) → MIME parsing → EmailChannel with a fake support
 * desk → reply written as .eml (or sent to a mocked SES). Threading, loop protection and idempotency run
 * against both the in-memory stores and DynamoEmailStore on dynalite.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createTransport } from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoEmailStore } from '#adapters/dynamoEmailStore';
import { EmlFileSender, SesEmailSender } from '#adapters/emailOutbox';
import { EMAIL_TABLE } from '#adapters/emailTableDefinition';
import { parseInboundEmail } from '#adapters/mimeParser';
import {
  EmailChannel,
  type EmailChannelDependencies,
  type EmailLog,
  EmailThreadNotFoundError,
  type EmailThreadStore,
  type EmailTurn,
  type EmailTurnResult,
} from '#core/emailChannel';
import type { EmailSender, InboundEmail, OutboundEmail } from '#core/emailThreading';
import { localAwsClientConfig, startDynamo } from '#local/dynamoServer';
import { startSmtpServer } from '#local/smtpServer';
import {
  InMemoryEmailLog,
  InMemoryEmailThreadStore,
  RecordingEmailSender,
} from '../support/inMemoryEmailStores';
import { FakeClock } from '../support/inMemoryStores';

const SUPPORT = { address: 'support@example.com', name: 'SupportMax' };
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A support desk stand-in: "human" in the text escalates, a conversation taken over is forwarded. */
class FakeDesk {
  readonly turns: EmailTurn[] = [];
  readonly takenOver = new Set<string>();
  private cases = 0;

  deliver = async (turn: EmailTurn): Promise<EmailTurnResult> => {
    this.turns.push(turn);
    const { conversationId } = turn;
    if (this.takenOver.has(conversationId)) return { conversationId, outcome: 'forwarded', replyText: '' };
    if (/\bhuman\b/i.test(turn.text)) {
      const caseId = `CS-CASE${String(++this.cases).padStart(4, '0')}`;
      return {
        conversationId,
        outcome: 'escalated',
        caseId,
        replyText: `I am passing your question to our support team. Your case number is ${caseId}.`,
      };
    }
    return {
      conversationId,
      outcome: 'answered',
      replyText: 'You can download invoices under Billing > Invoices.',
      citations: [{ faqId: 'bill-002', question: 'Where do I find my invoices?' }],
    };
  };
}

interface Stores {
  readonly log: EmailLog;
  readonly threads: EmailThreadStore;
}

const inMemoryStores = async (): Promise<Stores> => ({
  log: new InMemoryEmailLog(),
  threads: new InMemoryEmailThreadStore(),
});

async function dynamoStores(): Promise<Stores> {
  const server = await startDynamo({ dataDir: await tempDir('supportmax-email-dynamo-') });
  const client = new DynamoDBClient(localAwsClientConfig(server.endpoint));
  cleanups.push(async () => {
    client.destroy();
    await server.close();
  });
  await client.send(
    new CreateTableCommand({
      TableName: 'test-email',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: EMAIL_TABLE.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: EMAIL_TABLE.sortKey.name, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: EMAIL_TABLE.partitionKey.name, AttributeType: EMAIL_TABLE.partitionKey.type },
        { AttributeName: EMAIL_TABLE.sortKey.name, AttributeType: EMAIL_TABLE.sortKey.type },
      ],
    }),
  );
  // dynalite creates tables asynchronously, like DynamoDB.
  for (let i = 0; i < 200; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'test-email' }));
    if (Table?.TableStatus === 'ACTIVE') break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const store = new DynamoEmailStore(
    DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    'test-email',
  );
  return { log: store, threads: store };
}

function channelWith(stores: Stores, overrides: Partial<EmailChannelDependencies> = {}) {
  const desk = new FakeDesk();
  const sender = new RecordingEmailSender();
  const clock = new FakeClock();
  const channel = new EmailChannel({
    sender,
    clock,
    supportAddress: SUPPORT,
    deliver: desk.deliver,
    faqUrl: (faqId) => `https://help.example.com/faq/${faqId}`,
    ...stores,
    ...overrides,
  });
  return { channel, desk, sender, clock };
}

let counter = 0;
function customerMail(overrides: Partial<InboundEmail> = {}): InboundEmail {
  counter++;
  return {
    messageId: `<customer-${counter}@example.org>`,
    references: [],
    from: { address: 'alice@example.org', name: 'Alice' },
    to: [SUPPORT.address],
    subject: 'Invoice question',
    text: 'Where can I download my invoice?',
    receivedAt: new Date(Date.UTC(2026, 2, 2, 9, 0, counter)).toISOString(),
    headers: {},
    attachments: [],
    ...overrides,
  };
}

/** The customer's mail client answering one of our replies. */
function replyTo(ours: OutboundEmail, overrides: Partial<InboundEmail> = {}): InboundEmail {
  return customerMail({
    subject: `Re: ${ours.subject.replace(/^Re: /, '')}`,
    inReplyTo: ours.messageId!,
    references: [...(ours.references ?? []), ours.messageId!],
    ...overrides,
  });
}

describe('e-mail round trip through the local SMTP server', () => {
  async function startIntake(maxBytes?: number) {
    const outboxDir = join(await tempDir('supportmax-outbox-'), 'outbox');
    const stores = await inMemoryStores();
    const { channel, desk } = channelWith(stores, { sender: new EmlFileSender({ outboxDir }) });
    const failures: unknown[] = [];
    const smtp = await startSmtpServer({
      port: 0,
      ...(maxBytes ? { maxBytes } : {}),
      onMail: async (raw, envelope) => {
        const { email } = await parseInboundEmail(raw, { envelopeFrom: envelope.from });
        if (email.subject === 'explode') throw new Error('store unavailable');
        await channel.receive(email);
      },
      onError: (error) => failures.push(error),
    });
    cleanups.push(() => smtp.close());
    const client = createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true });
    cleanups.push(async () => client.close());
    return { outboxDir, client, desk, failures };
  }

  it('answers a mail with a threaded reply in the outbox', async () => {
    // Prepare
    const { outboxDir, client, desk } = await startIntake();

    // Act
    await client.sendMail({
      from: 'alice@example.com',
      to: 'support@example.com',
      subject: 'Invoice question',
      messageId: '<check-1@example.com>',
      text: 'Hello, where can I download my invoice?\n\nBest regards,\nAlice',
    });

    // Assess
    const files = (await readdir(outboxDir)).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d-]+Z-reply-\w+@example\.com\.eml$/);
    const raw = await readFile(join(outboxDir, files[0]!), 'utf8');
    expect(raw).toMatch(/^In-Reply-To: <check-1@example\.com>\r$/m);
    expect(raw).toMatch(/^References: <check-1@example\.com>\r$/m);
    expect(raw).toMatch(/^Auto-Submitted: auto-replied\r$/m);
    const { email: reply } = await parseInboundEmail(raw);
    expect(reply.subject).toBe('Re: Invoice question');
    expect(reply.to).toEqual(['alice@example.com']);
    expect(reply.text).toContain('Where do I find my invoices? (https://help.example.com/faq/bill-002)');
    expect(desk.turns.map((t) => t.text)).toEqual(['Hello, where can I download my invoice?']);
  });

  it('refuses a message over the size limit with 552', async () => {
    // Prepare
    const { client, desk } = await startIntake(4096);

    // Act
    const sending = client.sendMail({
      from: 'alice@example.com',
      to: 'support@example.com',
      subject: 'Big',
      text: 'x'.repeat(10_000),
    });

    // Assess
    await expect(sending).rejects.toMatchObject({ responseCode: 552 });
    expect(desk.turns).toHaveLength(0);
  });

  it('answers an unusable mail with 550 and a failing intake with 451, and keeps serving', async () => {
    // Prepare
    const { client, failures, outboxDir } = await startIntake();
    const base = { from: 'alice@example.com', to: 'support@example.com' };

    // Act
    const noBody = client.sendMail({ ...base, subject: '', text: '' });
    const failing = client.sendMail({ ...base, subject: 'explode', text: 'Hello' });
    const rejections = await Promise.allSettled([noBody, failing]);
    await client.sendMail({ ...base, subject: 'Still there?', text: 'Where can I download my invoice?' });

    // Assess
    expect(
      rejections.map((r) => r.status === 'rejected' && (r.reason as { responseCode: number }).responseCode),
    ).toEqual([550, 451]);
    expect(failures).toHaveLength(2);
    expect((await readdir(outboxDir)).filter((f) => f.endsWith('.eml'))).toHaveLength(1);
  });
});

describe.each([
  ['in-memory stores', inMemoryStores],
  ['DynamoEmailStore on dynalite', dynamoStores],
])('EmailChannel with %s', (_name, makeStores) => {
  it('threads three mails into one conversation: by In-Reply-To, then by the case token alone', async () => {
    // Prepare
    const { channel, sender, clock } = channelWith(await makeStores());
    const first = customerMail();

    // Act
    const one = await channel.receive(first);
    clock.advance(60_000);
    const second = replyTo(sender.sent[0]!, { text: 'That did not help, I need a human.' });
    const two = await channel.receive(second);
    clock.advance(60_000);
    const third = customerMail({
      subject: `Any news? ${sender.sent[1]!.subject.match(/\[CS-\w+\]/)![0]}`,
      text: 'Any news on this?',
    });
    const three = await channel.receive(third);

    // Assess
    expect(one).toMatchObject({ kind: 'delivered', threadedBy: 'new' });
    const conversationId = (one as { conversationId: string }).conversationId;
    expect(conversationId).toMatch(/^em-\w{24}$/);
    expect(two).toMatchObject({ kind: 'delivered', conversationId, threadedBy: 'reference' });
    expect(two).toMatchObject({ outcome: 'escalated', caseId: 'CS-CASE0001' });
    expect(three).toMatchObject({ kind: 'delivered', conversationId, threadedBy: 'caseToken' });
    expect(sender.sent.map((m) => m.subject)).toEqual([
      'Re: Invoice question',
      'Re: Invoice question [CS-CASE0001]',
      'Re: Any news? [CS-CASE0001]',
    ]);
    expect(sender.sent[1]).toMatchObject({
      inReplyTo: second.messageId,
      references: [first.messageId, sender.sent[0]!.messageId, second.messageId],
    });
    expect(sender.sent[1]!.text).toContain('Please keep [CS-CASE0001] in the subject');
  });

  it('does not let a case token from a stranger into the case', async () => {
    // Prepare
    const { channel, sender } = channelWith(await makeStores());
    const original = await channel.receive(customerMail({ text: 'I need a human please' }));
    const token = sender.sent[0]!.subject.match(/\[CS-\w+\]/)![0];

    // Act
    const outcome = await channel.receive(
      customerMail({
        from: { address: 'mallory@evil.example' },
        subject: `Re: ${token}`,
        text: 'Show me the case',
      }),
    );

    // Assess
    expect(outcome).toMatchObject({ kind: 'delivered', threadedBy: 'new' });
    expect((outcome as { conversationId: string }).conversationId).not.toBe(
      (original as { conversationId: string }).conversationId,
    );
  });

  it('drops an out-of-office reply without answering it', async () => {
    // Prepare
    const { channel, sender, desk } = channelWith(await makeStores());
    await channel.receive(customerMail());
    const outOfOffice = replyTo(sender.sent[0]!, {
      subject: 'Automatic reply: Invoice question',
      text: 'I am out of the office until Monday.',
      headers: { autoSubmitted: 'auto-replied', xAutoResponseSuppress: 'All' },
    });

    // Act
    const outcome = await channel.receive(outOfOffice);

    // Assess
    expect(outcome).toEqual({ kind: 'dropped', reason: 'Auto-Submitted: auto-replied' });
    expect(sender.sent).toHaveLength(1);
    expect(desk.turns).toHaveLength(1);
  });

  it('stops a ping-pong with a robot that ignores Auto-Submitted after five replies', async () => {
    // Prepare
    const { channel, sender, clock } = channelWith(await makeStores());
    const robot = { address: 'tickets@robot.example', name: 'Robot Helpdesk' };
    const pending: InboundEmail[] = [customerMail({ from: robot, subject: 'Ticket #1 received' })];
    let received = 0;

    // Act
    while (pending.length && received < 50) {
      const before = sender.sent.length;
      await channel.receive(pending.shift()!);
      received++;
      clock.advance(30_000);
      // The robot acknowledges every mail it gets, as a plain mail.
      if (sender.sent.length > before) {
        pending.push(replyTo(sender.sent.at(-1)!, { from: robot, text: 'We received your message.' }));
      }
    }

    // Assess
    expect(sender.sent).toHaveLength(5);
    expect(received).toBe(6);
    expect(sender.sent.every((m) => m.headers?.['Auto-Submitted'] === 'auto-replied')).toBe(true);
  });

  it('processes the same Message-ID once, also when it arrives twice at the same time', async () => {
    // Prepare
    const { channel, sender, desk } = channelWith(await makeStores());
    const mail = customerMail();

    // Act
    const concurrent = await Promise.all([channel.receive(mail), channel.receive({ ...mail })]);
    const later = await channel.receive({ ...mail, messageId: mail.messageId.toUpperCase() });

    // Assess
    expect(concurrent.map((o) => o.kind).sort()).toEqual(['delivered', 'duplicate']);
    expect(later).toEqual({ kind: 'duplicate', messageId: mail.messageId.toUpperCase(), inProgress: false });
    expect(desk.turns).toHaveLength(1);
    expect(sender.sent).toHaveLength(1);
  });

  it('releases the claim when sending fails, so the retry answers', async () => {
    // Prepare
    const { channel, sender } = channelWith(await makeStores());
    const mail = customerMail();
    sender.failures = 1;

    // Act
    const failed = channel.receive(mail);
    await expect(failed).rejects.toThrow('mail relay unavailable');
    const retried = await channel.receive(mail);

    // Assess
    expect(retried).toMatchObject({ kind: 'delivered', reply: { messageId: sender.sent[0]!.messageId } });
    expect(sender.sent).toHaveLength(1);
  });

  it('stays silent while an agent has the conversation, and sends the agent reply threaded', async () => {
    // Prepare
    const { channel, sender, desk } = channelWith(await makeStores());
    const first = await channel.receive(customerMail({ text: 'I want a human' }));
    const conversationId = (first as { conversationId: string }).conversationId;
    desk.takenOver.add(conversationId);
    const followUp = replyTo(sender.sent[0]!, { text: 'Here is my order number: 5521.' });

    // Act
    const forwarded = await channel.receive(followUp);
    const agent = await channel.sendAgentReply(conversationId, 'Priya', 'I have refunded order 5521.');
    const none = await channel.sendAgentReply('conv-unknown', 'Priya', 'Hello?');

    // Assess
    expect(forwarded).toMatchObject({
      outcome: 'forwarded',
      replySkipped: 'a human is handling the conversation',
    });
    expect(none).toBeUndefined();
    const sent = sender.sent.at(-1)!;
    expect(agent).toEqual({ messageId: sent.messageId });
    expect(sent).toMatchObject({
      from: { address: SUPPORT.address, name: 'Priya (SupportMax)' },
      to: [{ address: 'alice@example.org', name: 'Alice' }],
      subject: 'Re: Invoice question [CS-CASE0001]',
      inReplyTo: followUp.messageId,
    });
    expect(sent.references).toContain(followUp.messageId);
    expect(sent.headers).toBeUndefined();
    // The customer's answer to the agent lands in the same conversation.
    const answer = await channel.receive(replyTo(sent, { text: 'Thank you!' }));
    expect(answer).toMatchObject({ conversationId, threadedBy: 'caseToken' });
  });
});

describe('EmailChannel with a turn that completes later (turn workflow)', () => {
  it('sends the reply with replyToLastInbound, threaded to the mail that started the turn', async () => {
    // Prepare
    const { channel, sender } = channelWith(await inMemoryStores(), {
      deliver: async (turn) => ({ conversationId: turn.conversationId, outcome: 'pending', replyText: '' }),
    });
    const mail = customerMail();
    const received = await channel.receive(mail);
    const conversationId = (received as { conversationId: string }).conversationId;

    // Act
    const replied = await channel.replyToLastInbound(conversationId, {
      outcome: 'escalated',
      caseId: 'CS-ASYNC123',
      replyText: 'A colleague will take over. Your case number is CS-ASYNC123.',
    });

    // Assess
    expect(received).toMatchObject({ kind: 'delivered', outcome: 'pending' });
    expect(sender.sent).toHaveLength(1);
    expect(replied).toEqual({ reply: { messageId: sender.sent[0]!.messageId } });
    expect(sender.sent[0]).toMatchObject({
      inReplyTo: mail.messageId,
      subject: 'Re: Invoice question [CS-ASYNC123]',
    });
    const followUp = await channel.receive(customerMail({ subject: 'Update [CS-ASYNC123]' }));
    expect(followUp).toMatchObject({ conversationId, threadedBy: 'caseToken' });
  });

  it('follows the desk when it moves a mail to another conversation', async () => {
    // Prepare
    const { channel, sender } = channelWith(await inMemoryStores(), {
      deliver: async () => ({ conversationId: 'conv-moved', outcome: 'answered', replyText: 'Hello' }),
    });

    // Act
    const first = await channel.receive(customerMail());
    const second = await channel.receive(replyTo(sender.sent[0]!));

    // Assess
    expect(first).toMatchObject({ conversationId: 'conv-moved' });
    expect(second).toMatchObject({ conversationId: 'conv-moved', threadedBy: 'reference' });
  });

  it('throws EmailThreadNotFoundError for a conversation without a recorded mail, so the step retries', async () => {
    // Prepare
    const { channel } = channelWith(await inMemoryStores());

    // Act
    const replying = channel.replyToLastInbound('conv-chat', { outcome: 'answered', replyText: 'Hello' });

    // Assess
    await expect(replying).rejects.toBeInstanceOf(EmailThreadNotFoundError);
  });
});

describe('EmailChannel safety rules', () => {
  it.each([
    [{ dkim: 'fail', spf: 'fail' }, 'failed SPF and DKIM (forged sender)'],
    [{ dkim: 'none', spf: 'none' }, 'failed SPF and DKIM (forged sender)'],
    [{ dkim: 'pass', spf: 'pass', virus: 'fail' }, 'virus found'],
    [{ dkim: 'pass', spf: 'pass', spam: 'fail' }, 'spam'],
  ] as const)('drops a mail with SES verdicts %o', async (authentication, reason) => {
    // Prepare
    const { channel, sender } = channelWith(await inMemoryStores());

    // Act
    const outcome = await channel.receive(customerMail({ authentication }));

    // Assess
    expect(outcome).toEqual({ kind: 'dropped', reason });
    expect(sender.sent).toHaveLength(0);
  });

  it('never answers mail from its own address', async () => {
    // Prepare
    const { channel, sender } = channelWith(await inMemoryStores());

    // Act
    const outcome = await channel.receive(customerMail({ from: { address: 'Support@Example.com' } }));

    // Assess
    expect(outcome).toEqual({ kind: 'dropped', reason: 'sent from our own address' });
    expect(sender.sent).toHaveLength(0);
  });

  it('hands the desk the subject when the body is empty, and cuts long bodies', async () => {
    // Prepare
    const { channel, desk } = channelWith(await inMemoryStores(), { maxTextChars: 100 });

    // Act
    await channel.receive(customerMail({ subject: 'Re: Password reset [CS-NOSUCH12]', text: '' }));
    await channel.receive(customerMail({ text: 'a'.repeat(500) }));

    // Assess
    expect(desk.turns.map((t) => [t.text.length, t.subject])).toEqual([
      ['Password reset'.length, 'Password reset'],
      [100, 'Invoice question'],
    ]);
  });

  it('resolves the customer by sender address', async () => {
    // Prepare
    const { channel, desk } = channelWith(await inMemoryStores(), {
      findCustomerByEmail: async (address) => (address === 'alice@example.org' ? 'cust-42' : undefined),
    });

    // Act
    await channel.receive(customerMail());

    // Assess
    expect(desk.turns[0]!.customerId).toBe('cust-42');
  });

  it('does not take the sender address as an identity without a DKIM pass (SPF alone answers, anonymously)', async () => {
    // Prepare
    const { channel, desk } = channelWith(await inMemoryStores(), {
      findCustomerByEmail: async () => 'cust-42',
    });

    // Act
    await channel.receive(customerMail({ authentication: { dkim: 'none', spf: 'pass' } }));

    // Assess
    expect(desk.turns).toHaveLength(1);
    expect(desk.turns[0]!.customerId).toBeUndefined();
  });
});

describe('SesEmailSender', () => {
  it('sends the raw MIME with our threading headers and returns the Message-ID SES assigns', async () => {
    // Prepare
    const ses = mockClient(SESv2Client);
    cleanups.push(async () => ses.restore());
    ses.on(SendEmailCommand).resolves({ MessageId: '0102018e-abc-000000' });
    const sender: EmailSender = new SesEmailSender({
      client: new SESv2Client({ region: 'eu-west-1' }),
      configurationSetName: 'supportmax',
    });

    // Act
    const result = await sender.send({
      from: SUPPORT,
      to: [{ address: 'alice@example.org' }],
      subject: 'Re: Invoice question',
      text: 'Hello',
      messageId: '<reply-1@example.com>',
      inReplyTo: '<check-1@example.com>',
      references: ['<check-1@example.com>'],
      headers: { 'Auto-Submitted': 'auto-replied' },
    });

    // Assess
    expect(result).toEqual({
      messageId: '<0102018e-abc-000000@eu-west-1.amazonses.com>',
      alternateMessageIds: ['<reply-1@example.com>'],
    });
    const input = ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
    expect(input.ConfigurationSetName).toBe('supportmax');
    const raw = Buffer.from(input.Content!.Raw!.Data!).toString('utf8');
    expect(raw).toMatch(/^In-Reply-To: <check-1@example\.com>\r$/m);
    expect(raw).toMatch(/^Auto-Submitted: auto-replied\r$/m);
  });
});
