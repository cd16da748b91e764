import { describe, expect, it, vi } from 'vitest';
import type { ClassifiedMessage, ConversationEngine, RetrievalOutcome } from '#core/conversationEngine';
import { CustomerData, InvalidCustomerIdError } from '#core/customerData';
import { EmailChannel } from '#core/emailChannel';
import type { InboundEmail } from '#core/emailThreading';
import { SupportDesk } from '#core/supportDesk';
import {
  InMemoryEmailLog,
  InMemoryEmailThreadStore,
  RecordingEmailSender,
} from '../support/inMemoryEmailStores';
import {
  FakeClock,
  InMemoryCaseStore,
  InMemoryConnectionStore,
  InMemoryConversationStore,
  RecordingEscalationQueue,
  RecordingEventPublisher,
  RecordingNotifier,
  RecordingTurnStarter,
} from '../support/inMemoryStores';

const SUPPORT = { address: 'support@example.com', name: 'Support' };
const ZERO = { conversations: 0, messages: 0, cases: 0, connections: 0, emailThreads: 0 };

function fixture() {
  const clock = new FakeClock();
  const conversations = new InMemoryConversationStore();
  const cases = new InMemoryCaseStore();
  const connections = new InMemoryConnectionStore(clock);
  const turns = new RecordingTurnStarter();
  const threads = new InMemoryEmailThreadStore();
  const desk = new SupportDesk({
    conversations,
    cases,
    connections,
    notifier: new RecordingNotifier(),
    events: new RecordingEventPublisher(),
    clock,
    turns,
    escalations: new RecordingEscalationQueue(),
  });
  const channel = new EmailChannel({
    sender: new RecordingEmailSender(),
    log: new InMemoryEmailLog(),
    threads,
    clock,
    supportAddress: SUPPORT,
    deliver: (turn) => desk.receiveEmail(turn),
    findCustomerByEmail: async (address) => (address === 'ana@example.org' ? 'CUST-A' : undefined),
  });
  const data = new CustomerData({
    conversations,
    cases,
    connections,
    emailThreads: threads,
    clock,
    newId: () => 'receipt-1',
  });

  /** A customer (signed in as `customerId`, or anonymous) writes on a new connection; returns the turn. */
  const chat = async (connectionId: string, customerId: string | undefined, text: string) => {
    await desk.customerConnected(connectionId, '203.0.113.7', customerId ? { customerId } : {});
    const outcome = await desk.receiveMessage(connectionId, { action: 'sendMessage', text });
    if (outcome.kind !== 'started') throw new Error(`expected a started turn, got ${outcome.kind}`);
    return turns.started.at(-1)!.input;
  };

  let mails = 0;
  const mail = (overrides: Partial<InboundEmail> = {}): InboundEmail => {
    mails++;
    return {
      messageId: `<mail-${mails}@example.org>`,
      references: [],
      from: { address: 'ana@example.org', name: 'Ana' },
      to: [SUPPORT.address],
      subject: 'Invoice question',
      text: 'Where can I download my invoice? My phone is +44 20 7946 0958.',
      receivedAt: new Date(clock.now() + mails * 1000).toISOString(),
      headers: {},
      attachments: [],
      ...overrides,
    };
  };

  /**
   * Customer A: an escalated chat (a case, a live connection), a second chat and an e-mail conversation.
   * Customer B: an escalated chat. Plus an anonymous chat.
   */
  const seed = async () => {
    const a1 = await chat('conn-a1', 'CUST-A', 'I was charged twice, I want a human');
    const { caseId: caseA } = await desk.escalateTurn(a1, undefined, undefined, true);
    const a2 = await chat('conn-a2', 'CUST-A', 'How do I reset my password?');
    const first = mail();
    const emailed = await channel.receive(first);
    if (emailed.kind !== 'delivered') throw new Error(`expected a delivered mail, got ${emailed.kind}`);
    const b = await chat('conn-b', 'CUST-B', 'My export is broken, I want a human');
    const { caseId: caseB } = await desk.escalateTurn(b, undefined, undefined, true);
    const anonymous = await chat('conn-anon', undefined, 'What are your opening hours?');
    return {
      a1,
      a2,
      caseA,
      email: { conversationId: emailed.conversationId, mail: first },
      b,
      caseB,
      anonymous,
    };
  };

  return { clock, conversations, cases, connections, threads, desk, channel, data, chat, mail, seed, turns };
}

describe('customer data export', () => {
  it("exports every conversation of the customer with its messages, cases, live connections and e-mail thread, and nothing of anyone else's", async () => {
    // Prepare
    const f = fixture();
    const s = await f.seed();
    await f.cases.updateCase(s.caseA, { waitToken: 'task-token-secret' });

    // Act
    const exported = await f.data.exportCustomer('CUST-A');

    // Assess
    expect(exported.customerId).toBe('CUST-A');
    expect(exported.conversations.map((c) => c.conversation.conversationId).sort()).toEqual(
      [s.a1.conversationId, s.a2.conversationId, s.email.conversationId].sort(),
    );
    expect(exported.counts).toEqual({
      conversations: 3,
      // a1: customer + escalation notice; a2: customer; e-mail: customer
      messages: 4,
      cases: 1,
      connections: 2,
      emailThreads: 1,
    });
    const escalated = exported.conversations.find(
      (c) => c.conversation.conversationId === s.a1.conversationId,
    )!;
    expect(escalated.messages.map((m) => m.text)).toContain('I was charged twice, I want a human');
    expect(escalated.cases).toEqual([
      expect.objectContaining({
        caseId: s.caseA,
        handoff: expect.objectContaining({ reason: 'answer_unavailable' }),
      }),
    ]);
    expect(escalated.cases[0]).not.toHaveProperty('waitToken');
    expect(escalated.connections).toEqual([
      expect.objectContaining({ connectionId: 'conn-a1', customerId: 'CUST-A', sourceIp: '203.0.113.7' }),
    ]);
    const emailed = exported.conversations.find(
      (c) => c.conversation.conversationId === s.email.conversationId,
    )!;
    expect(emailed.emailThread).toMatchObject({
      messageId: s.email.mail.messageId,
      from: { address: 'ana@example.org' },
    });
    const everything = JSON.stringify(exported);
    expect(everything).not.toContain('My export is broken');
    expect(everything).not.toContain('opening hours');
    expect(everything).not.toContain(s.caseB);
    expect(exported.notIncluded.map((n) => n.data)).toContain('audit log entries');
  });

  it('gives an unknown customer the same empty export and zero-count receipt as an erased one', async () => {
    // Prepare
    const f = fixture();
    await f.seed();

    // Act
    const exported = await f.data.exportCustomer('CUST-NOBODY');
    const receipt = await f.data.eraseCustomer('CUST-NOBODY');

    // Assess
    expect(exported).toMatchObject({ customerId: 'CUST-NOBODY', conversations: [], counts: ZERO });
    expect(receipt).toMatchObject({ customerId: 'CUST-NOBODY', counts: ZERO });
  });

  it.each([
    ['path traversal', '../CUST-A'],
    ['an encoded slash', 'CUST..%2FA'],
    ['markup', '<script>alert(1)</script>'],
    ['101 characters', `C${'x'.repeat(100)}`],
    ['an empty id', ''],
  ])('refuses a customer id with %s', async (_label, customerId) => {
    // Prepare
    const f = fixture();

    // Act
    const exporting = f.data.exportCustomer(customerId);
    const erasing = f.data.eraseCustomer(customerId);

    // Assess
    await expect(exporting).rejects.toBeInstanceOf(InvalidCustomerIdError);
    await expect(erasing).rejects.toBeInstanceOf(InvalidCustomerIdError);
  });
});

describe('customer data erasure', () => {
  it("erases the customer's conversations, messages, cases, connections and e-mail thread state, and counts them", async () => {
    // Prepare
    const f = fixture();
    const s = await f.seed();

    // Act
    const receipt = await f.data.eraseCustomer('CUST-A');

    // Assess
    expect(receipt).toMatchObject({
      receiptId: 'er-receipt-1',
      customerId: 'CUST-A',
      erasedAt: new Date(f.clock.now()).toISOString(),
      // The e-mail conversation's last-inbound context and its mail's Message-ID link.
      counts: { conversations: 3, messages: 4, cases: 1, connections: 2, emailThreads: 2 },
    });
    expect(receipt.retained.map((r) => r.data)).toEqual(
      expect.arrayContaining([
        'audit log entries',
        'aggregate metrics',
        'CRM customer profile and CRM copies of cases',
      ]),
    );
    for (const { conversationId } of [s.a1, s.a2, s.email]) {
      expect(await f.conversations.getConversation(conversationId)).toBeUndefined();
      expect(f.conversations.hasMessages(conversationId)).toBe(false);
    }
    expect(await f.cases.getCase(s.caseA)).toBeUndefined();
    expect(f.connections.has('conn-a1')).toBe(false);
    expect(await f.threads.lastInbound(s.email.conversationId)).toBeUndefined();
    expect(await f.threads.findConversationByMessageId(s.email.mail.messageId)).toBeUndefined();
    expect((await f.data.exportCustomer('CUST-A')).conversations).toEqual([]);
  });

  it('leaves other customers and anonymous conversations untouched', async () => {
    // Prepare
    const f = fixture();
    const s = await f.seed();
    const before = await Promise.all([
      f.data.exportCustomer('CUST-B'),
      f.conversations.getConversation(s.anonymous.conversationId),
      f.conversations.listMessages(s.anonymous.conversationId),
    ]);

    // Act
    await f.data.eraseCustomer('CUST-A');

    // Assess
    const after = await Promise.all([
      f.data.exportCustomer('CUST-B'),
      f.conversations.getConversation(s.anonymous.conversationId),
      f.conversations.listMessages(s.anonymous.conversationId),
    ]);
    expect(after).toEqual(before);
    expect((await f.cases.listCases()).map((c) => c.caseId)).toEqual([s.caseB]);
    expect(f.connections.has('conn-b')).toBe(true);
    expect(f.connections.has('conn-anon')).toBe(true);
  });

  it("releases the escalation workflow's wait on an erased case before deleting it", async () => {
    // Prepare
    const f = fixture();
    const s = await f.seed();
    await f.cases.updateCase(s.caseA, { waitToken: 'task-token-a' });
    const released: string[] = [];
    const data = new CustomerData({
      conversations: f.conversations,
      cases: f.cases,
      connections: f.connections,
      clock: f.clock,
      caseWorkflow: {
        releaseWait: async (record, outcome) => {
          released.push(`${record.caseId} ${record.waitToken} ${outcome}`);
        },
      },
    });

    // Act
    await data.eraseCustomer('CUST-A');

    // Assess
    expect(released).toEqual([`${s.caseA} task-token-a abandoned`]);
    expect(await f.cases.getCase(s.caseA)).toBeUndefined();
  });

  it('returns a zero-count receipt when the customer is erased again', async () => {
    // Prepare
    const f = fixture();
    await f.seed();
    await f.data.eraseCustomer('CUST-A');

    // Act
    const again = await f.data.eraseCustomer('CUST-A');

    // Assess
    expect(again.counts).toEqual(ZERO);
    expect(again.retained.length).toBeGreaterThan(0);
  });

  it('finishes an erasure that failed half-way when it is run again', async () => {
    // Prepare
    const f = fixture();
    const s = await f.seed();
    const deleteCase = vi.spyOn(f.cases, 'deleteCase').mockRejectedValueOnce(new Error('throttled'));

    // Act
    const failed = f.data.eraseCustomer('CUST-A');
    await expect(failed).rejects.toThrow('throttled');
    deleteCase.mockRestore();
    const retried = await f.data.eraseCustomer('CUST-A');

    // Assess
    expect(retried.counts).toMatchObject({ conversations: 3, messages: 4, cases: 1, connections: 2 });
    expect(await f.cases.getCase(s.caseA)).toBeUndefined();
    expect((await f.data.exportCustomer('CUST-A')).counts).toEqual(ZERO);
  });

  it('drops a turn that completes after its conversation was erased instead of storing an answer or a case', async () => {
    // Prepare
    const f = fixture();
    const s = await f.seed();
    await f.data.eraseCustomer('CUST-A');
    const engine = { compose: vi.fn() } as unknown as ConversationEngine;

    // Act
    const answered = await f.desk.answerTurn(engine, s.a2, {} as ClassifiedMessage, {} as RetrievalOutcome);
    const escalated = await f.desk.escalateTurn(s.a2, undefined, undefined, true);

    // Assess
    expect(escalated.dropped).toBe(true);
    expect(answered.messageId).toMatch(/^r-/);
    expect(engine.compose).not.toHaveBeenCalled();
    expect(f.conversations.hasMessages(s.a2.conversationId)).toBe(false);
    expect(await f.cases.getCase(escalated.caseId)).toBeUndefined();
    expect(await f.conversations.getConversation(s.a2.conversationId)).toBeUndefined();
  });

  it('starts a new conversation for a later mail in an erased e-mail thread: the erased id never comes back', async () => {
    // Prepare
    const f = fixture();
    const s = await f.seed();
    // A link the erasure cannot find by conversation (e.g. our own reply's Message-ID) still names it.
    await f.threads.linkMessageId('<reply-1@example.com>', s.email.conversationId);
    await f.data.eraseCustomer('CUST-A');

    // Act
    const later = await f.channel.receive(
      f.mail({
        inReplyTo: '<reply-1@example.com>',
        references: [s.email.mail.messageId, '<reply-1@example.com>'],
      }),
    );

    // Assess
    expect(later).toMatchObject({ kind: 'delivered', threadedBy: 'reference' });
    const conversationId = (later as { conversationId: string }).conversationId;
    expect(conversationId).not.toBe(s.email.conversationId);
    expect(await f.conversations.getConversation(s.email.conversationId)).toBeUndefined();
    expect(await f.conversations.getConversation(conversationId)).toMatchObject({
      channel: 'email',
      customerId: 'CUST-A',
    });
  });
});
