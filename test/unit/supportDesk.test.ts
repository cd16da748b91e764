import { describe, expect, it } from 'vitest';
import type {
  ClassifiedMessage,
  ComposedAnswer,
  ConversationEngine,
  RetrievalOutcome,
} from '#core/conversationEngine';
import type { SentimentReading } from '#core/customerSentiment';
import type { EscalationDecision } from '#core/escalationPolicy';
import { ids, SupportDesk, type SupportDeskDependencies, type TurnInput } from '#core/supportDesk';
import {
  type CaseRecord,
  type ConversationStatus,
  ERASED_WITHOUT_CONSENT,
  NotFoundError,
  StateConflictError,
} from '#core/supportRecords';
import { type Distribution, INTENTS, type Intent, PRODUCT_AREAS, type ProductArea } from '#core/types';
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

const CALM: SentimentReading = { sentiment: 0, urgency: 0, cues: [] };
const ANGRY_URGENT: SentimentReading = { sentiment: -0.8, urgency: 0.7, cues: ['unacceptable', 'asap'] };

const CANDIDATES = [
  { faqId: 'bill-004', question: 'Why was I charged twice?', score: 0.42, share: 0.5 },
  { faqId: 'bill-011', question: 'How do refunds work?', score: 0.31, share: 0.25 },
  { faqId: 'bill-002', question: 'Where do I find my invoices?', score: 0.2, share: 0.15 },
  { faqId: 'bill-007', question: 'How do I change my payment method?', score: 0.1, share: 0.1 },
];

function distribution<K extends string>(labels: readonly K[], best: K, p: number): Distribution<K> {
  const rest = (1 - p) / (labels.length - 1);
  return Object.fromEntries(labels.map((l) => [l, l === best ? p : rest])) as Distribution<K>;
}

function classifiedAs(
  intent: Intent,
  options: { sentiment?: SentimentReading; area?: ProductArea; maskedText?: string } = {},
): ClassifiedMessage {
  const area = options.area ?? 'billing_subscriptions';
  return {
    maskedText: options.maskedText ?? 'I was charged twice this month',
    intent: { label: intent, probability: 0.8, distribution: distribution(INTENTS, intent, 0.8) },
    productArea: { label: area, probability: 0.55, distribution: distribution(PRODUCT_AREAS, area, 0.55) },
    sentiment: options.sentiment ?? CALM,
    humanRequested: false,
    timings: { embedMs: 4, classifyMs: 1 },
  };
}

function retrievalWith(decision: EscalationDecision, confidence: number): RetrievalOutcome {
  return {
    candidates: CANDIDATES,
    confidence,
    threshold: 0.65,
    productArea: 'billing_subscriptions',
    decision,
    retrieveMs: 12.3456,
  };
}

/** An engine whose compose step answers from fixed FAQs and takes `modelMs` on the fake clock. */
function stubEngine(clock: FakeClock, modelMs = 0) {
  const calls: Parameters<ConversationEngine['compose']>[0][] = [];
  const engine = {
    async compose(input: Parameters<ConversationEngine['compose']>[0]): Promise<ComposedAnswer> {
      calls.push(input);
      clock.advance(modelMs);
      return {
        text: 'Duplicate charges are refunded automatically within 5 business days.',
        citations: [{ faqId: 'bill-004', question: 'Why was I charged twice?' }],
        model: {
          text: 'Duplicate charges are refunded automatically within 5 business days.',
          citedFaqIds: ['bill-004'],
          provider: 'stub',
          usage: {
            modelId: 'stub-model',
            inputTokens: 120,
            outputTokens: 30,
            costUsd: 0.0002,
            latencyMs: modelMs,
          },
        },
      };
    },
  };
  return { engine: engine as unknown as ConversationEngine, calls };
}

function deskFixture(extra: Partial<SupportDeskDependencies> = {}) {
  const clock = new FakeClock();
  const conversations = new InMemoryConversationStore();
  const cases = new InMemoryCaseStore();
  const connections = new InMemoryConnectionStore(clock);
  const notifier = new RecordingNotifier();
  const events = new RecordingEventPublisher();
  const turns = new RecordingTurnStarter();
  const escalations = new RecordingEscalationQueue();
  const desk = new SupportDesk({
    conversations,
    cases,
    connections,
    notifier,
    events,
    clock,
    turns,
    escalations,
    ...extra,
  });

  /** A customer connects and sends a message; returns the turn the desk started. */
  const customerSays = async (
    connectionId: string,
    text: string,
    options: { conversationId?: string; clientMessageId?: string } = {},
  ): Promise<TurnInput> => {
    if (!(await connections.getConnection(connectionId))) await desk.customerConnected(connectionId);
    const outcome = await desk.receiveMessage(connectionId, { action: 'sendMessage', text, ...options });
    if (outcome.kind !== 'started') throw new Error(`expected a started turn, got ${outcome.kind}`);
    return turns.started.at(-1)!.input;
  };

  const escalate = (turn: TurnInput, sentiment = CALM) =>
    desk.escalateTurn(
      turn,
      classifiedAs('billing_question', { sentiment }),
      retrievalWith({ escalate: true, reason: 'low_confidence' }, 0.3),
      false,
    );

  return {
    clock,
    conversations,
    cases,
    connections,
    notifier,
    events,
    turns,
    escalations,
    desk,
    customerSays,
    escalate,
  };
}

describe('support desk: customer messages', () => {
  it('creates a conversation for a first message, stores it once and starts exactly one turn keyed by its id', async () => {
    // Prepare
    const f = deskFixture();
    await f.desk.customerConnected('conn-1');

    // Act
    const outcome = await f.desk.receiveMessage('conn-1', {
      action: 'sendMessage',
      text: 'I was charged twice this month',
      clientMessageId: 'client-1',
    });

    // Assess
    expect(outcome.kind).toBe('started');
    if (outcome.kind !== 'started') return;
    const conversation = await f.conversations.getConversation(outcome.conversationId);
    expect(conversation).toMatchObject({ status: 'bot', channel: 'chat', connectionId: 'conn-1' });
    const messages = await f.conversations.listMessages(outcome.conversationId);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      messageId: outcome.messageId,
      role: 'customer',
      text: 'I was charged twice this month',
      clientMessageId: 'client-1',
    });
    expect(f.turns.started).toEqual([
      {
        input: {
          conversationId: outcome.conversationId,
          messageId: outcome.messageId,
          connectionId: 'conn-1',
          receivedAt: f.clock.now(),
        },
        idempotencyKey: outcome.messageId,
      },
    ]);
    expect((await f.connections.getConnection('conn-1'))?.conversationId).toBe(outcome.conversationId);
    expect(f.events.ofType('MessageReceived')).toEqual([
      expect.objectContaining({ conversationId: outcome.conversationId, firstMessage: true }),
    ]);
  });

  it('replays the stored reply with its clientMessageId instead of storing a repeated message twice', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice', { clientMessageId: 'client-1' });
    await f.desk.answerTurn(
      stubEngine(f.clock).engine,
      turn,
      classifiedAs('billing_question'),
      retrievalWith({ escalate: false }, 0.9),
    );

    // Act
    const outcome = await f.desk.receiveMessage('conn-1', {
      action: 'sendMessage',
      text: 'I was charged twice',
      conversationId: turn.conversationId,
      clientMessageId: 'client-1',
    });

    // Assess
    expect(outcome).toEqual({
      kind: 'replayed',
      conversationId: turn.conversationId,
      messageId: turn.messageId,
    });
    const messages = await f.conversations.listMessages(turn.conversationId);
    expect(messages.map((m) => m.role)).toEqual(['customer', 'assistant']);
    expect(f.turns.started).toHaveLength(1);
    expect(f.events.ofType('MessageReceived')).toHaveLength(1);
    const frames = f.notifier.framesFor('conn-1');
    expect(frames).toHaveLength(2);
    expect(frames[1]).toEqual(frames[0]);
    expect(frames[1]).toMatchObject({
      type: 'reply',
      messageId: ids.reply(turn.messageId),
      clientMessageId: 'client-1',
    });
  });

  it('restarts the turn with the same idempotency key when a repeated message has no reply yet', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'Where is my invoice?', { clientMessageId: 'client-7' });

    // Act
    const outcome = await f.desk.receiveMessage('conn-1', {
      action: 'sendMessage',
      text: 'Where is my invoice?',
      conversationId: turn.conversationId,
      clientMessageId: 'client-7',
    });

    // Assess
    expect(outcome).toMatchObject({ kind: 'started', messageId: turn.messageId });
    expect(await f.conversations.listMessages(turn.conversationId)).toHaveLength(1);
    expect(f.turns.started.map((s) => s.idempotencyKey)).toEqual([turn.messageId, turn.messageId]);
  });

  it('rejects a message for a conversation that does not exist', async () => {
    // Prepare
    const f = deskFixture();
    await f.desk.customerConnected('conn-1');

    // Act
    const outcome = await f.desk.receiveMessage('conn-1', {
      action: 'sendMessage',
      text: 'hello again',
      conversationId: 'no-such-conversation',
    });

    // Assess
    expect(outcome).toMatchObject({ kind: 'rejected', code: 'UnknownConversation' });
    expect(await f.conversations.listMessages('no-such-conversation')).toEqual([]);
    expect(f.turns.started).toEqual([]);
    expect(f.events.published).toEqual([]);
  });

  it.each<ConversationStatus>(['escalated', 'human'])(
    'forwards a message in a %s conversation to the humans without starting a turn',
    async (status) => {
      // Prepare
      const f = deskFixture();
      const first = await f.customerSays('conn-1', 'I was charged twice');
      await f.conversations.updateConversation(first.conversationId, { status });

      // Act
      const outcome = await f.desk.receiveMessage('conn-1', {
        action: 'sendMessage',
        text: 'Any news on this?',
        conversationId: first.conversationId,
      });

      // Assess
      expect(outcome).toMatchObject({ kind: 'forwarded', conversationId: first.conversationId });
      const messages = await f.conversations.listMessages(first.conversationId);
      expect(messages.map((m) => m.text)).toContain('Any news on this?');
      expect(f.turns.started).toHaveLength(1);
      expect((await f.conversations.getConversation(first.conversationId))?.status).toBe(status);
    },
  );
});

describe('support desk: escalation', () => {
  it('opens one case with a handoff packet and publishes one escalation even when the step is replayed', async () => {
    // Prepare
    const f = deskFixture();
    const text =
      'I was charged twice for INV-20931 and the checkout showed E4012, this is unacceptable, fix it asap';
    const turn = await f.customerSays('conn-1', text, { clientMessageId: 'client-1' });
    const classified = classifiedAs('billing_question', { sentiment: ANGRY_URGENT });
    const retrieval = retrievalWith({ escalate: true, reason: 'negative_sentiment_urgent' }, 0.71);

    // Act
    const first = await f.desk.escalateTurn(turn, classified, retrieval, false);
    const replayed = await f.desk.escalateTurn(turn, classified, retrieval, false);

    // Assess
    expect(replayed.caseId).toBe(first.caseId);
    const cases = await f.cases.listCases();
    expect(cases).toHaveLength(1);
    const stored = cases[0]!;
    expect(stored).toMatchObject({
      caseId: first.caseId,
      conversationId: turn.conversationId,
      status: 'open',
      queue: 'billing',
      // Angry and urgent, tier not known yet: the escalation workflow re-triages with the customer's tier.
      priority: 'P3',
      reason: 'negative_sentiment_urgent',
      intent: 'billing_question',
      productArea: 'billing_subscriptions',
      confidence: 0.71,
    });
    expect(stored.handoff.summary).toContain('Billing Question');
    expect(stored.handoff.summary).toContain('charged twice');
    expect(stored.handoff.reason).toBe('negative_sentiment_urgent');
    expect(stored.handoff.faqsTried).toEqual(
      CANDIDATES.slice(0, 3).map(({ faqId, question }) => ({ faqId, question })),
    );
    expect(stored.handoff.entities).toMatchObject({ invoiceIds: ['INV-20931'], errorCodes: ['E4012'] });
    expect(await f.conversations.getConversation(turn.conversationId)).toMatchObject({
      status: 'escalated',
      caseId: first.caseId,
    });
    const escalatedFrames = f.notifier.framesFor('conn-1').filter((frame) => frame.type === 'escalated');
    expect(escalatedFrames[0]).toMatchObject({
      conversationId: turn.conversationId,
      caseId: first.caseId,
      reason: 'negative_sentiment_urgent',
      clientMessageId: 'client-1',
    });
    expect(f.events.ofType('ConversationEscalated')).toEqual([
      expect.objectContaining({ caseId: first.caseId, reason: 'negative_sentiment_urgent', priority: 'P3' }),
    ]);
    const systemMessages = (await f.conversations.listMessages(turn.conversationId)).filter(
      (m) => m.role === 'system',
    );
    expect(systemMessages).toHaveLength(1);
    expect(new Set(f.escalations.enqueued.map((m) => m.caseId))).toEqual(new Set([first.caseId]));
  });

  it.each([
    { intent: 'technical_issue' as const, sentiment: CALM, queue: 'technical', priority: 'P4' },
    {
      intent: 'account_management' as const,
      sentiment: { sentiment: -0.3, urgency: 0, cues: [] },
      queue: 'account',
      priority: 'P3',
    },
    {
      intent: 'feature_request' as const,
      sentiment: { sentiment: 0.2, urgency: 0.35, cues: [] },
      queue: 'general',
      priority: 'P4',
    },
  ])(
    'routes a $intent escalation to the $queue queue at $priority',
    async ({ intent, sentiment, queue, priority }) => {
      // Prepare
      const f = deskFixture();
      const turn = await f.customerSays('conn-1', 'Something about my account');

      // Act
      const { caseId } = await f.desk.escalateTurn(
        turn,
        classifiedAs(intent, { sentiment }),
        retrievalWith({ escalate: true, reason: 'low_confidence' }, 0.4),
        false,
      );

      // Assess
      expect(await f.cases.getCase(caseId)).toMatchObject({ queue, priority });
    },
  );

  it('escalates as answer_unavailable when the turn failed before any retrieval', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'My dashboard export fails');

    // Act
    const { caseId } = await f.desk.escalateTurn(turn, undefined, undefined, true);

    // Assess
    expect(await f.cases.getCase(caseId)).toMatchObject({
      reason: 'answer_unavailable',
      intent: 'general_inquiry',
      queue: 'general',
      confidence: 0,
    });
  });

  it('leaves no reply stored when enqueueing fails, so a retry enqueues the case again', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice');
    f.escalations.failNext();

    // Act
    const failed = f.escalate(turn);

    // Assess
    await expect(failed).rejects.toThrow('escalation queue unavailable');
    expect(await f.conversations.getMessage(turn.conversationId, ids.reply(turn.messageId))).toBeUndefined();
    expect(f.events.ofType('ConversationEscalated')).toEqual([]);

    // Act
    const { caseId } = await f.escalate(turn);

    // Assess
    expect(f.escalations.enqueued).toEqual([{ caseId, conversationId: turn.conversationId }]);
    expect(await f.conversations.getMessage(turn.conversationId, ids.reply(turn.messageId))).toMatchObject({
      escalated: true,
      caseId,
    });
    expect(f.events.ofType('ConversationEscalated')).toHaveLength(1);
    expect(await f.cases.listCases()).toHaveLength(1);
  });

  it('keeps the customer email and card number out of the case subject and handoff summary', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays(
      'conn-1',
      'My card 4111 1111 1111 1111 was charged twice, write to jane.doe@example.com',
    );

    // Act
    const { caseId } = await f.escalate(turn);

    // Assess
    const stored = await f.cases.getCase(caseId);
    for (const text of [stored?.subject, stored?.handoff.summary]) {
      expect(text).toBeDefined();
      expect(text).not.toContain('jane.doe@example.com');
      expect(text).not.toContain('4111 1111 1111 1111');
    }
  });
});

describe('support desk: bot answers', () => {
  it('stores one assistant answer with citations and publishes MessageAnswered with latency from receipt', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice', { clientMessageId: 'client-1' });
    f.clock.advance(1_500);
    const { engine, calls } = stubEngine(f.clock, 250);
    const classified = classifiedAs('billing_question');
    const retrieval = retrievalWith({ escalate: false }, 0.9);

    // Act
    const first = await f.desk.answerTurn(engine, turn, classified, retrieval);
    const replayed = await f.desk.answerTurn(engine, turn, classified, retrieval);

    // Assess
    expect(replayed.messageId).toBe(first.messageId);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ maskedText: classified.maskedText, faqIds: ['bill-004', 'bill-011'] });
    const answers = (await f.conversations.listMessages(turn.conversationId)).filter(
      (m) => m.role === 'assistant',
    );
    expect(answers).toEqual([
      expect.objectContaining({
        messageId: ids.reply(turn.messageId),
        replyTo: turn.messageId,
        citations: [{ faqId: 'bill-004', question: 'Why was I charged twice?' }],
        confidence: 0.9,
        intent: 'billing_question',
        clientMessageId: 'client-1',
      }),
    ]);
    expect(f.events.ofType('MessageAnswered')).toEqual([
      expect.objectContaining({
        messageId: ids.reply(turn.messageId),
        faqIds: ['bill-004'],
        turnLatencyMs: 1_750,
        modelLatencyMs: 250,
        retrievalLatencyMs: 12.35,
        modelId: 'stub-model',
      }),
    ]);
    expect(await f.conversations.getConversation(turn.conversationId)).toMatchObject({
      answeredTurns: 1,
      lastIntent: 'billing_question',
      lastProductArea: 'billing_subscriptions',
    });
    expect(f.notifier.framesFor('conn-1')[0]).toMatchObject({
      type: 'reply',
      citations: [{ faqId: 'bill-004', question: 'Why was I charged twice?' }],
      clientMessageId: 'client-1',
    });
  });

  it("delivers the answer to the conversation's other live connections when the turn's connection is gone", async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice');
    await f.desk.customerConnected('conn-2');
    await f.connections.attachConversation('conn-2', turn.conversationId);
    f.notifier.markGone('conn-1');

    // Act
    await f.desk.answerTurn(
      stubEngine(f.clock).engine,
      turn,
      classifiedAs('billing_question'),
      retrievalWith({ escalate: false }, 0.9),
    );

    // Assess
    expect(f.notifier.framesFor('conn-2')).toEqual([expect.objectContaining({ type: 'reply' })]);
    expect(f.connections.has('conn-1')).toBe(false);
  });
});

describe('support desk: agents', () => {
  it("announces the agent to every live connection of the customer's conversation on take-over", async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice');
    await f.desk.customerConnected('conn-2');
    await f.connections.attachConversation('conn-2', turn.conversationId);
    await f.desk.customerConnected('conn-other');
    const { caseId } = await f.escalate(turn);

    // Act
    const record = await f.desk.takeOver(caseId, 'Dana');

    // Assess
    expect(record).toMatchObject({ status: 'assigned', assignee: 'Dana' });
    expect((await f.conversations.getConversation(turn.conversationId))?.status).toBe('human');
    for (const connectionId of ['conn-1', 'conn-2']) {
      expect(f.notifier.framesFor(connectionId).at(-1)).toEqual({
        type: 'agentMessage',
        conversationId: turn.conversationId,
        agentName: 'Dana',
        text: expect.stringContaining('has joined'),
      });
    }
    expect(f.notifier.framesFor('conn-other')).toEqual([]);
  });

  it('refuses an agent reply on a case nobody has taken over', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice');
    const { caseId } = await f.escalate(turn);

    // Act
    const reply = f.desk.agentReply(caseId, 'Dana', 'Hi, looking into it.');

    // Assess
    await expect(reply).rejects.toBeInstanceOf(StateConflictError);
    expect(f.events.ofType('AgentReplied')).toEqual([]);
    const agentMessages = (await f.conversations.listMessages(turn.conversationId)).filter(
      (m) => m.role === 'agent',
    );
    expect(agentMessages).toEqual([]);
  });

  it('refuses an agent reply on an unknown case as not found', async () => {
    // Prepare
    const f = deskFixture();

    // Act
    const reply = f.desk.agentReply('CS-NOPE', 'Dana', 'Hello?');

    // Assess
    await expect(reply).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('reports the first response time on the first agent reply only', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice');
    const { caseId } = await f.escalate(turn);
    f.clock.advance(30_000);
    await f.desk.takeOver(caseId, 'Dana');
    f.clock.advance(60_000);

    // Act
    await f.desk.agentReply(caseId, 'Dana', 'Hi, I can see the double charge.');
    f.clock.advance(20_000);
    await f.desk.agentReply(caseId, 'Dana', 'The refund is on its way.');

    // Assess
    const replied = f.events.ofType('AgentReplied');
    expect(replied).toHaveLength(2);
    expect(replied[0]).toMatchObject({ caseId, agentName: 'Dana', firstResponseSeconds: 90 });
    expect(replied[1]).not.toHaveProperty('firstResponseSeconds');
    expect(f.notifier.framesFor('conn-1').at(-1)).toMatchObject({
      type: 'agentMessage',
      text: 'The refund is on its way.',
    });
    const agentMessages = (await f.conversations.listMessages(turn.conversationId)).filter(
      (m) => m.role === 'agent',
    );
    expect(agentMessages.map((m) => m.text)).toEqual([
      'Hi, I can see the double charge.',
      'The refund is on its way.',
    ]);
  });

  it('resolves a case as human-resolved once and refuses to resolve it again', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice');
    const { caseId } = await f.escalate(turn);
    await f.desk.takeOver(caseId, 'Dana');
    f.clock.advance(600_000);

    // Act
    const resolved = await f.desk.resolveCase(caseId);
    const again = f.desk.resolveCase(caseId);

    // Assess
    expect(resolved.status).toBe('resolved');
    await expect(again).rejects.toBeInstanceOf(StateConflictError);
    expect(f.events.ofType('ConversationResolved')).toEqual([
      expect.objectContaining({
        conversationId: turn.conversationId,
        resolvedBy: 'human',
        caseId,
        resolutionSeconds: 600,
        intent: 'billing_question',
      }),
    ]);
    expect((await f.conversations.getConversation(turn.conversationId))?.status).toBe('resolved');
  });

  it('reports a missing case as not found when resolving it', async () => {
    // Prepare
    const f = deskFixture();

    // Act
    const resolving = f.desk.resolveCase('CS-NOPE');

    // Assess
    await expect(resolving).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('support desk: customers leaving', () => {
  async function answeredConversation() {
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice');
    await f.desk.answerTurn(
      stubEngine(f.clock).engine,
      turn,
      classifiedAs('billing_question'),
      retrievalWith({ escalate: false }, 0.9),
    );
    return { f, turn };
  }

  it('resolves a bot-answered conversation as automated once when its last connection closes', async () => {
    // Prepare
    const { f, turn } = await answeredConversation();
    f.clock.advance(120_000);

    // Act
    await f.desk.customerDisconnected('conn-1');
    await f.desk.customerDisconnected('conn-1');

    // Assess
    expect(f.events.ofType('ConversationResolved')).toEqual([
      expect.objectContaining({
        conversationId: turn.conversationId,
        resolvedBy: 'automated',
        resolutionSeconds: 120,
        intent: 'billing_question',
      }),
    ]);
    expect((await f.conversations.getConversation(turn.conversationId))?.status).toBe('resolved');
    expect(f.connections.has('conn-1')).toBe(false);
  });

  it('keeps the conversation open while another connection of it is live', async () => {
    // Prepare
    const { f, turn } = await answeredConversation();
    await f.desk.customerConnected('conn-2');
    await f.connections.attachConversation('conn-2', turn.conversationId);

    // Act
    await f.desk.customerDisconnected('conn-1');

    // Assess
    expect(f.events.ofType('ConversationResolved')).toEqual([]);
    expect((await f.conversations.getConversation(turn.conversationId))?.status).toBe('bot');
  });

  it('ignores other connections of the conversation whose TTL has passed', async () => {
    // Prepare
    const { f, turn } = await answeredConversation();
    await f.connections.putConnection({
      connectionId: 'conn-stale',
      role: 'customer',
      connectedAt: new Date(f.clock.now() - 3 * 3_600_000).toISOString(),
      conversationId: turn.conversationId,
      expiresAt: Math.floor(f.clock.now() / 1000) - 60,
    });

    // Act
    await f.desk.customerDisconnected('conn-1');

    // Assess
    expect(f.events.ofType('ConversationResolved')).toEqual([
      expect.objectContaining({ resolvedBy: 'automated' }),
    ]);
  });

  it('does not count an escalated conversation as resolved by automation', async () => {
    // Prepare
    const { f, turn } = await answeredConversation();
    const next = await f.customerSays('conn-1', 'That did not help, I still see two charges', {
      conversationId: turn.conversationId,
    });
    await f.escalate(next);

    // Act
    await f.desk.customerDisconnected('conn-1');

    // Assess
    expect(f.events.ofType('ConversationResolved')).toEqual([]);
    expect((await f.conversations.getConversation(turn.conversationId))?.status).toBe('escalated');
  });

  it('does not resolve a conversation the bot never answered', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'hello?');

    // Act
    await f.desk.customerDisconnected('conn-1');

    // Assess
    expect(f.events.ofType('ConversationResolved')).toEqual([]);
    expect((await f.conversations.getConversation(turn.conversationId))?.status).toBe('bot');
  });
});

describe('support desk: gone connections', () => {
  it("removes a customer's gone connection when a frame cannot be delivered to it", async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice');
    await f.desk.customerConnected('conn-2');
    await f.connections.attachConversation('conn-2', turn.conversationId);
    const { caseId } = await f.escalate(turn);
    f.notifier.markGone('conn-1');

    // Act
    await f.desk.takeOver(caseId, 'Dana');

    // Assess
    expect(f.connections.has('conn-1')).toBe(false);
    expect(f.connections.has('conn-2')).toBe(true);
    expect(f.notifier.framesFor('conn-2').at(-1)).toMatchObject({ type: 'agentMessage' });
  });

  it('removes a gone operator console when broadcasting a case', async () => {
    // Prepare
    const f = deskFixture();
    const turn = await f.customerSays('conn-1', 'I was charged twice');
    const { caseId } = await f.escalate(turn);
    await f.desk.subscribeOperator('op-1');
    await f.desk.subscribeOperator('op-2');
    f.notifier.markGone('op-2');

    // Act
    await f.desk.broadcastCase(caseId);

    // Assess
    expect(f.notifier.framesFor('op-1')).toEqual([
      expect.objectContaining({ type: 'caseUpdated', case: expect.objectContaining({ caseId }) }),
    ]);
    expect(f.connections.has('op-2')).toBe(false);
    expect(f.connections.has('op-1')).toBe(true);
  });
});

describe('SupportDesk and the escalation workflow', () => {
  const released: string[] = [];
  const caseWorkflow = {
    releaseWait: async (record: CaseRecord, outcome: string) => {
      released.push(`${record.caseId} ${outcome}`);
    },
  };

  async function escalatedCase() {
    released.length = 0;
    const f = deskFixture({ caseWorkflow });
    const turn = await f.customerSays('conn-1', 'I was charged twice');
    const { caseId } = await f.escalate(turn);
    return { f, caseId, conversationId: turn.conversationId };
  }

  it('releases the workflow wait on the first agent reply only and names the reply in the event', async () => {
    // Prepare
    const { f, caseId } = await escalatedCase();
    await f.desk.takeOver(caseId, 'Ana');

    // Act
    const first = await f.desk.agentReply(caseId, 'Ana', 'Looking into it.');
    await f.desk.agentReply(caseId, 'Ana', 'Refund issued.');

    // Assess
    expect(released).toEqual([`${caseId} replied`]);
    expect(f.events.ofType('AgentReplied')[0]).toMatchObject({
      messageId: first.messageId,
      priority: expect.any(String),
    });
  });

  it('abandons a case nobody answered when the customer ends the conversation', async () => {
    // Prepare
    const { f, caseId, conversationId } = await escalatedCase();

    // Act
    const outcome = await f.desk.endConversation('conn-1', conversationId);

    // Assess
    expect(outcome).toEqual({ ended: true, caseId });
    expect(await f.cases.getCase(caseId)).toMatchObject({ status: 'abandoned' });
    expect(await f.conversations.getConversation(conversationId)).toMatchObject({ status: 'resolved' });
    expect(released).toEqual([`${caseId} abandoned`]);
    expect(f.events.ofType('CaseAbandoned')).toHaveLength(1);
    expect(f.events.ofType('ConversationResolved')).toHaveLength(0);
  });

  it('leaves a case an agent already answered open when the customer ends the conversation', async () => {
    // Prepare
    const { f, caseId, conversationId } = await escalatedCase();
    await f.desk.takeOver(caseId, 'Ana');
    await f.desk.agentReply(caseId, 'Ana', 'Hello!');

    // Act
    const outcome = await f.desk.endConversation('conn-1', conversationId);

    // Assess
    expect(outcome).toEqual({ ended: false, caseId });
    expect(await f.cases.getCase(caseId)).toMatchObject({ status: 'assigned' });
  });

  it('refuses to end a conversation from a connection that does not hold it', async () => {
    // Prepare
    const { f, conversationId } = await escalatedCase();
    await f.desk.customerConnected('conn-2');

    // Act
    const ending = f.desk.endConversation('conn-2', conversationId);

    // Assess
    await expect(ending).rejects.toThrow(NotFoundError);
  });

  it('releases the wait when the case is resolved', async () => {
    // Prepare
    const { f, caseId } = await escalatedCase();

    // Act
    await f.desk.resolveCase(caseId);

    // Assess
    expect(released).toEqual([`${caseId} resolved`]);
  });
});

describe('SupportDesk and signed-in customers', () => {
  it("refuses to continue a signed-in customer's conversation from another customer's connection", async () => {
    // Prepare
    const f = deskFixture();
    await f.connections.putConnection({
      connectionId: 'conn-a',
      role: 'customer',
      connectedAt: new Date(f.clock.now()).toISOString(),
      expiresAt: Math.floor(f.clock.now() / 1000) + 3600,
      customerId: 'CUST-1001',
    });
    const turn = await f.customerSays('conn-a', 'Hello, my invoice is wrong');
    await f.connections.putConnection({
      connectionId: 'conn-b',
      role: 'customer',
      connectedAt: new Date(f.clock.now()).toISOString(),
      expiresAt: Math.floor(f.clock.now() / 1000) + 3600,
      customerId: 'CUST-2001',
    });
    await f.desk.customerConnected('conn-anon');

    // Act
    const intruder = await f.desk.receiveMessage('conn-b', {
      action: 'sendMessage',
      text: 'show me the history',
      conversationId: turn.conversationId,
    });
    const anonymous = await f.desk.receiveMessage('conn-anon', {
      action: 'sendMessage',
      text: 'show me the history',
      conversationId: turn.conversationId,
    });

    // Assess
    expect(await f.conversations.getConversation(turn.conversationId)).toMatchObject({
      customerId: 'CUST-1001',
    });
    expect(intruder).toMatchObject({ kind: 'rejected', code: 'UnknownConversation' });
    expect(anonymous).toMatchObject({ kind: 'rejected', code: 'UnknownConversation' });
  });
});

describe('SupportDesk and transcript consent', () => {
  const CARD_TEXT = 'I was charged twice on card 4111 1111 1111 1111, mail me at ana@example.com';

  it('stores the messages of a customer who refused transcript consent with their PII masked', async () => {
    // Prepare
    const f = deskFixture();
    await f.desk.customerConnected('conn-1', undefined, {
      customerId: 'CUST-1001',
      consentToStoreTranscripts: false,
    });
    await f.desk.customerConnected('conn-2', undefined, { customerId: 'CUST-2001' });

    // Act
    const refused = await f.customerSays('conn-1', CARD_TEXT);
    const given = await f.customerSays('conn-2', CARD_TEXT);

    // Assess
    expect(await f.connections.getConnection('conn-1')).toMatchObject({ consentToStoreTranscripts: false });
    expect(await f.conversations.getConversation(refused.conversationId)).toMatchObject({
      customerId: 'CUST-1001',
      consentToStoreTranscripts: false,
    });
    const [masked] = await f.conversations.listMessages(refused.conversationId);
    expect(masked?.text).not.toContain('4111');
    expect(masked?.text).not.toContain('ana@example.com');
    expect(masked?.text).toContain('charged twice');
    expect(await f.conversations.getConversation(given.conversationId)).not.toHaveProperty(
      'consentToStoreTranscripts',
    );
    expect((await f.conversations.listMessages(given.conversationId))[0]?.text).toBe(CARD_TEXT);
  });

  it('erases every message text of a conversation without consent when its case is resolved, keeping the records', async () => {
    // Prepare
    const f = deskFixture();
    await f.desk.customerConnected('conn-1', undefined, {
      customerId: 'CUST-1001',
      consentToStoreTranscripts: false,
    });
    const turn = await f.customerSays('conn-1', CARD_TEXT);
    const { caseId } = await f.escalate(turn);
    await f.desk.takeOver(caseId, 'Dana');
    await f.desk.agentReply(caseId, 'Dana', 'Hi Ana, I can see the double charge.');
    const before = await f.conversations.listMessages(turn.conversationId);

    // Act
    await f.desk.resolveCase(caseId);

    // Assess
    const after = await f.conversations.listMessages(turn.conversationId);
    expect(after.map((m) => m.messageId)).toEqual(before.map((m) => m.messageId));
    expect(after.map((m) => m.role).sort()).toEqual(['agent', 'customer', 'system']);
    expect(new Set(after.map((m) => m.text))).toEqual(new Set([ERASED_WITHOUT_CONSENT]));
    expect(await f.cases.getCase(caseId)).toMatchObject({ status: 'resolved' });
  });

  it('erases the transcript of a bot-answered conversation without consent once it is resolved by automation', async () => {
    // Prepare
    const f = deskFixture();
    await f.desk.customerConnected('conn-1', undefined, {
      customerId: 'CUST-1001',
      consentToStoreTranscripts: false,
    });
    const turn = await f.customerSays('conn-1', CARD_TEXT);
    await f.desk.answerTurn(
      stubEngine(f.clock).engine,
      turn,
      classifiedAs('billing_question'),
      retrievalWith({ escalate: false }, 0.9),
    );

    // Act
    await f.desk.customerDisconnected('conn-1');

    // Assess
    const after = await f.conversations.listMessages(turn.conversationId);
    expect(after.map((m) => m.role)).toEqual(['customer', 'assistant']);
    expect(after.every((m) => m.text === ERASED_WITHOUT_CONSENT)).toBe(true);
  });

  it('keeps the transcript of a resolved conversation whose customer consented', async () => {
    // Prepare
    const f = deskFixture();
    await f.desk.customerConnected('conn-1', undefined, { customerId: 'CUST-2001' });
    const turn = await f.customerSays('conn-1', CARD_TEXT);
    const { caseId } = await f.escalate(turn);
    await f.desk.takeOver(caseId, 'Dana');

    // Act
    await f.desk.resolveCase(caseId);

    // Assess
    const [customerMessage] = await f.conversations.listMessages(turn.conversationId);
    expect(customerMessage?.text).toBe(CARD_TEXT);
  });
});
