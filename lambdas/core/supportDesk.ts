/**
 * The support desk: what happens to a customer message, a bot answer, an escalation and an agent's action,
 * in terms of the ports (stores, notifier, events, workflow, queue). Handlers only parse events and call
 * these methods. Every step is idempotent by message id, so retries and replays are safe.
 */
import { createHash, randomUUID } from 'node:crypto';
import { escalationMessage, triageEscalation } from './caseTriage';
import type { CaseWorkflow } from './caseWorkflow';
import type { AgentMessageFrame, EscalatedFrame, ReplyFrame, SendMessage } from './chatProtocol';
import { type ClassifiedMessage, ConversationEngine, type RetrievalOutcome } from './conversationEngine';
import type { DomainEvent, EventPublisher } from './domainEvents';
import type { EmailTurn, EmailTurnResult } from './emailChannel';
import type { EscalationReason } from './escalationPolicy';
import { maskPii } from './piiMasking';
import type { Clock } from './ports';
import type {
  CaseRecord,
  CaseStatus,
  CaseStore,
  ConnectionNotifier,
  ConnectionStore,
  ConversationRecord,
  ConversationStore,
  MessageRecord,
} from './supportRecords';
import { ERASED_WITHOUT_CONSENT, NotFoundError } from './supportRecords';
import type { PriorityRule } from './triageRules';

/** Starts the per-turn workflow (Step Functions on AWS, the local runner locally). */
export interface TurnStarter {
  start(input: TurnInput, idempotencyKey: string): Promise<void>;
}

/** Hands escalated cases to the escalation stage (SQS on AWS and locally). */
export interface EscalationQueue {
  enqueue(message: { readonly caseId: string; readonly conversationId: string }): Promise<void>;
}

/** Sends the bot's and agents' words to conversations held by e-mail (the e-mail channel). */
export interface EmailReplies {
  /** The stored answer or escalation notice of a turn, as a reply to the customer's last mail. */
  reply(conversation: ConversationRecord, message: MessageRecord): Promise<void>;
  agentReply(conversationId: string, agentName: string, text: string): Promise<void>;
}

/** Input of the turn workflow: ids only, so no customer text sits in workflow history. */
export interface TurnInput {
  readonly conversationId: string;
  readonly messageId: string;
  readonly connectionId?: string;
  readonly receivedAt: number;
}

export interface SupportDeskDependencies {
  readonly conversations: ConversationStore;
  readonly cases: CaseStore;
  readonly connections: ConnectionStore;
  readonly notifier: ConnectionNotifier;
  readonly events: EventPublisher;
  readonly clock: Clock;
  readonly turns?: TurnStarter;
  readonly escalations?: EscalationQueue;
  /** Releases the escalation workflow's wait when an agent answers or the case closes. */
  readonly caseWorkflow?: Pick<CaseWorkflow, 'releaseWait'>;
  /** The operators' priority rule table (TRIAGE_RULES); the default table otherwise. */
  readonly priorityRules?: readonly PriorityRule[];
  readonly logger?: { warn(message: string, extra: Record<string, unknown>): void };
  /** Replies to e-mail conversations; without it e-mail conversations get no replies. */
  readonly emailReplies?: EmailReplies;
}

export type ReceiveOutcome =
  | { readonly kind: 'started'; readonly conversationId: string; readonly messageId: string }
  | { readonly kind: 'replayed'; readonly conversationId: string; readonly messageId: string }
  | { readonly kind: 'forwarded'; readonly conversationId: string; readonly messageId: string }
  | {
      readonly kind: 'rejected';
      readonly code: 'UnknownConversation' | 'ConversationClosed';
      readonly message: string;
    };

const shortHash = (value: string, length: number) =>
  createHash('sha256').update(value).digest('base64url').replace(/[-_]/g, '').slice(0, length);

/** Deterministic ids: the same client message always maps to the same message, reply and case. */
export const ids = {
  customerMessage: (conversationId: string, clientMessageId?: string) =>
    clientMessageId ? `m-${shortHash(`${conversationId}:${clientMessageId}`, 20)}` : `m-${randomUUID()}`,
  reply: (messageId: string) => `r-${messageId.slice(2)}`,
  case: (messageId: string) => `CS-${shortHash(messageId, 8).toUpperCase()}`,
};

/** API Gateway closes idle WebSockets after 10 min and any after 2 h; records outlive neither. */
const CONNECTION_TTL_SECONDS = 2 * 60 * 60;

export class SupportDesk {
  constructor(private readonly deps: SupportDeskDependencies) {}

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /** A customer message from a connection: stored once, then answered by the workflow or forwarded. */
  async receiveMessage(connectionId: string, message: SendMessage): Promise<ReceiveOutcome> {
    const { conversations, connections, events } = this.deps;
    const now = this.now();
    let conversation: ConversationRecord | undefined;
    if (message.conversationId) {
      conversation = await conversations.getConversation(message.conversationId);
      if (!conversation) {
        return { kind: 'rejected', code: 'UnknownConversation', message: 'this conversation does not exist' };
      }
      // A signed-in customer's conversation continues only on a connection signed in as that customer
      // (answered as if it did not exist: its id tells nobody else anything).
      if (conversation.customerId && conversation.connectionId !== connectionId) {
        const caller = await connections.getConnection(connectionId);
        if (caller?.customerId !== conversation.customerId) {
          return {
            kind: 'rejected',
            code: 'UnknownConversation',
            message: 'this conversation does not exist',
          };
        }
      }
    } else {
      // The customer id (and consent) come only from the verified token the connection was opened with.
      const connection = await connections.getConnection(connectionId);
      conversation = await conversations.createConversation({
        conversationId: randomUUID(),
        status: 'bot',
        channel: 'chat',
        createdAt: now,
        updatedAt: now,
        connectionId,
        ...(connection?.customerId ? { customerId: connection.customerId } : {}),
        ...(connection?.consentToStoreTranscripts === false
          ? { consentToStoreTranscripts: false as const }
          : {}),
      });
    }
    const { conversationId } = conversation;
    const messageId = ids.customerMessage(conversationId, message.clientMessageId);
    const [stored] = await Promise.all([
      conversations.appendMessage({
        conversationId,
        messageId,
        role: 'customer',
        text: storedText(conversation, message.text),
        createdAt: now,
        ...(message.clientMessageId ? { clientMessageId: message.clientMessageId } : {}),
      }),
      connections.attachConversation(connectionId, conversationId),
    ]);
    if (!stored.created) {
      // A retry of a message we already have: resend the stored answer, or let the workflow finish it.
      const reply = await conversations.getMessage(conversationId, ids.reply(messageId));
      if (reply) {
        await this.deps.notifier.send(connectionId, frameOf(reply, message.clientMessageId));
        return { kind: 'replayed', conversationId, messageId };
      }
    }
    // A returning customer: agent messages go to this connection now; a resolved conversation reopens.
    const reopen = conversation.status === 'resolved';
    if (conversation.connectionId !== connectionId || reopen) {
      conversation = await conversations.updateConversation(conversationId, {
        connectionId,
        updatedAt: now,
        ...(reopen ? { status: 'bot' as const } : {}),
      });
    }
    const received: DomainEvent[] = stored.created
      ? [
          {
            type: 'MessageReceived',
            conversationId,
            messageId,
            channel: 'chat',
            firstMessage: !message.conversationId && conversation.createdAt === now,
          },
        ]
      : [];
    if (conversation.status === 'escalated' || conversation.status === 'human') {
      await events.publish(received);
      return { kind: 'forwarded', conversationId, messageId };
    }
    await this.deps.turns?.start(
      { conversationId, messageId, connectionId, receivedAt: this.deps.clock.now() },
      messageId,
    );
    await events.publish(received);
    return { kind: 'started', conversationId, messageId };
  }

  /**
   * A customer e-mail (already threaded by the e-mail channel): stored once, then answered by the turn
   * workflow like a chat message ('pending': the answer is mailed when the turn delivers it), or forwarded
   * to the human who has the conversation.
   */
  async receiveEmail(turn: EmailTurn): Promise<EmailTurnResult> {
    const { conversations, events } = this.deps;
    const now = this.now();
    // A thread whose conversation is gone (erased at the customer's request) starts a new one, so an erased
    // id never comes back; the new id derives from this mail, so a redelivered mail lands in it too.
    const gone = !turn.newConversation && !(await conversations.getConversation(turn.conversationId));
    let conversation = await conversations.createConversation({
      conversationId: gone ? `em-${shortHash(turn.inbound.messageId, 24)}` : turn.conversationId,
      status: 'bot',
      channel: 'email',
      createdAt: now,
      updatedAt: now,
      ...(turn.customerId ? { customerId: turn.customerId } : {}),
    });
    const { conversationId } = conversation;
    // Message-IDs are not client message ids; their hash is (and a redelivered mail maps to the same id).
    const messageId = ids.customerMessage(conversationId, shortHash(turn.inbound.messageId, 32));
    const stored = await conversations.appendMessage({
      conversationId,
      messageId,
      role: 'customer',
      text: storedText(conversation, turn.text),
      createdAt: now,
    });
    if (conversation.status === 'resolved') {
      conversation = await conversations.updateConversation(conversationId, {
        status: 'bot',
        updatedAt: now,
      });
    }
    if (stored.created) {
      await events.publish([
        {
          type: 'MessageReceived',
          conversationId,
          messageId,
          channel: 'email',
          firstMessage: conversation.createdAt === now,
        },
      ]);
    }
    if (conversation.status === 'escalated' || conversation.status === 'human') {
      await this.broadcastMessage(conversationId, messageId);
      return { conversationId, outcome: 'forwarded', replyText: '' };
    }
    if (!stored.created) {
      const reply = await conversations.getMessage(conversationId, ids.reply(messageId));
      if (reply) await this.deps.emailReplies?.reply(conversation, reply);
      return { conversationId, outcome: 'pending', replyText: '' };
    }
    await this.deps.turns?.start({ conversationId, messageId, receivedAt: this.deps.clock.now() }, messageId);
    return { conversationId, outcome: 'pending', replyText: '' };
  }

  /** Classify stage input: the stored customer text. */
  async messageText(conversationId: string, messageId: string): Promise<string> {
    const message = await this.deps.conversations.getMessage(conversationId, messageId);
    if (!message) throw new Error(`message ${messageId} of conversation ${conversationId} not found`);
    return message.text;
  }

  /** Answer stage: compose, store once, send, publish. */
  async answerTurn(
    engine: ConversationEngine,
    turn: TurnInput,
    classified: ClassifiedMessage,
    retrieval: RetrievalOutcome,
  ): Promise<{ readonly messageId: string }> {
    const { conversations, events } = this.deps;
    const replyId = ids.reply(turn.messageId);
    const transcript = await conversations.listMessages(turn.conversationId);
    const existing = transcript.find((m) => m.messageId === replyId);
    if (existing) {
      await this.deliver(turn, existing);
      return { messageId: replyId };
    }
    if (!transcript.some((m) => m.messageId === turn.messageId)) {
      // The conversation was erased while its turn ran: storing the answer would bring data back.
      this.deps.logger?.warn('turn dropped: its message is gone', { conversationId: turn.conversationId });
      return { messageId: replyId };
    }
    const history = transcript
      .filter((m) => m.messageId !== turn.messageId && (m.role === 'customer' || m.role === 'assistant'))
      .map((m) => ({ role: m.role as 'customer' | 'assistant', text: m.text }));
    const clientMessageId = transcript.find((m) => m.messageId === turn.messageId)?.clientMessageId;
    const modelStarted = this.deps.clock.now();
    const answer = await engine.compose({
      maskedText: classified.maskedText,
      faqIds: ConversationEngine.answerSources(retrieval),
      history,
      promptGuard: classified.promptGuard,
    });
    const modelLatencyMs = this.deps.clock.now() - modelStarted;
    const { message, created } = await conversations.appendMessage({
      conversationId: turn.conversationId,
      messageId: replyId,
      role: 'assistant',
      text: answer.text,
      createdAt: this.now(),
      replyTo: turn.messageId,
      intent: classified.intent.label,
      productArea: retrieval.productArea,
      confidence: retrieval.confidence,
      citations: answer.citations,
      escalated: false,
      ...(clientMessageId ? { clientMessageId } : {}),
    });
    // The customer first; bookkeeping after (and outside the latency the customer saw).
    await this.deliver(turn, message);
    const deliveredAt = this.deps.clock.now();
    if (created) {
      await conversations.recordAnswer(turn.conversationId, {
        lastIntent: classified.intent.label,
        lastProductArea: retrieval.productArea,
        updatedAt: this.now(),
      });
      await events.publish([
        {
          type: 'MessageAnswered',
          conversationId: turn.conversationId,
          messageId: replyId,
          intent: classified.intent.label,
          productArea: retrieval.productArea,
          confidence: retrieval.confidence,
          faqIds: answer.citations.map((c) => c.faqId),
          turnLatencyMs: Math.max(0, deliveredAt - turn.receivedAt),
          retrievalLatencyMs: Math.round(retrieval.retrieveMs * 100) / 100,
          modelLatencyMs,
          modelId: answer.model.usage.modelId,
          inputTokens: answer.model.usage.inputTokens,
          outputTokens: answer.model.usage.outputTokens,
          costUsd: answer.model.usage.costUsd,
          ...(answer.budget?.actions.length ? { budgetActions: answer.budget.actions } : {}),
          ...(answer.promptHash ? { promptHash: answer.promptHash } : {}),
        },
      ]);
    }
    return { messageId: replyId };
  }

  /** Escalation stage: case with handoff packet, customer told, case queued, event published. */
  async escalateTurn(
    turn: TurnInput,
    classified: ClassifiedMessage | undefined,
    retrieval: RetrievalOutcome | undefined,
    failed: boolean,
  ): Promise<{ readonly caseId: string; readonly dropped?: true }> {
    const { conversations, cases, events } = this.deps;
    const reason: EscalationReason =
      retrieval?.decision.escalate === true
        ? retrieval.decision.reason
        : failed
          ? 'answer_unavailable'
          : 'low_confidence';
    const caseId = ids.case(turn.messageId);
    const now = this.now();
    const transcript = await conversations.listMessages(turn.conversationId);
    const customerMessage = transcript.find((m) => m.messageId === turn.messageId);
    if (!customerMessage) {
      // The conversation was erased while its turn ran: a case would bring its data back.
      this.deps.logger?.warn('turn dropped: its message is gone', { conversationId: turn.conversationId });
      return { caseId, dropped: true };
    }
    const clientMessageId = customerMessage.clientMessageId;
    // The handoff packet lands in CRMs and consoles: it carries masked text only.
    const maskedTranscript = transcript.map((m) => ({ role: m.role, text: maskPii(m.text).text }));
    const conversation = await conversations.getConversation(turn.conversationId);
    // "Talk to a human" says nothing about the topic: the conversation so far does.
    const topicFromHistory = reason === 'human_requested' && conversation?.lastIntent !== undefined;
    const intent = topicFromHistory
      ? conversation!.lastIntent!
      : (classified?.intent.label ?? 'general_inquiry');
    const productArea = topicFromHistory
      ? (conversation!.lastProductArea ?? 'unknown')
      : (retrieval?.productArea ?? classified?.productArea.label ?? 'unknown');
    const confidence = retrieval?.confidence ?? 0;
    const triage = triageEscalation({
      reason,
      intent,
      productArea,
      confidence,
      sentiment: classified?.sentiment ?? { sentiment: 0, urgency: 0, cues: [] },
      faqsTried: (retrieval?.candidates ?? [])
        .slice(0, 3)
        .map(({ faqId, question }) => ({ faqId, question })),
      transcript: maskedTranscript,
      rawCustomerText: transcript
        .filter((m) => m.role === 'customer')
        .map((m) => m.text)
        .join('\n'),
      ...(this.deps.priorityRules ? { rules: this.deps.priorityRules } : {}),
    });
    const record = await cases.createCase({
      caseId,
      conversationId: turn.conversationId,
      status: 'open',
      priority: triage.priority,
      queue: triage.queue,
      reason,
      subject: triage.subject,
      intent,
      productArea,
      confidence,
      handoff: triage.handoff,
      createdAt: now,
      updatedAt: now,
    });
    if (conversation && conversation.status !== 'human') {
      await conversations.updateConversation(turn.conversationId, {
        status: 'escalated',
        caseId: record.caseId,
        lastIntent: intent,
        lastProductArea: productArea,
        updatedAt: now,
      });
    }
    // Queue before the reply is stored: a retry after a failed enqueue finds no reply and enqueues again
    // (the consumer is idempotent per case).
    await this.deps.escalations?.enqueue({ caseId: record.caseId, conversationId: turn.conversationId });
    const { message, created } = await conversations.appendMessage({
      conversationId: turn.conversationId,
      messageId: ids.reply(turn.messageId),
      role: 'system',
      text: escalationMessage(reason, record.caseId),
      createdAt: now,
      replyTo: turn.messageId,
      intent,
      productArea,
      confidence,
      escalated: true,
      caseId: record.caseId,
      reason,
      ...(clientMessageId ? { clientMessageId } : {}),
    });
    await this.deliver(turn, message);
    if (created) {
      await events.publish([
        {
          type: 'ConversationEscalated',
          conversationId: turn.conversationId,
          caseId: record.caseId,
          reason,
          intent,
          productArea,
          confidence,
          turnLatencyMs: Math.max(0, this.deps.clock.now() - turn.receivedAt),
          priority: record.priority,
          queue: record.queue,
        },
      ]);
    }
    return { caseId: record.caseId };
  }

  async takeOver(caseId: string, agentName: string): Promise<CaseRecord> {
    const record = await this.deps.cases.updateCase(
      caseId,
      { status: 'assigned', assignee: agentName, updatedAt: this.now() },
      ['open', 'assigned'],
    );
    await this.deps.conversations.updateConversation(record.conversationId, {
      status: 'human',
      updatedAt: this.now(),
    });
    await this.sendAgentFrame(
      record.conversationId,
      agentName,
      `${agentName} from our support team has joined the chat.`,
    );
    return record;
  }

  async agentReply(caseId: string, agentName: string, text: string): Promise<MessageRecord> {
    const { cases, conversations, events, clock } = this.deps;
    const record = await cases.updateCase(caseId, { updatedAt: this.now() }, ['assigned']);
    const firstResponse = await cases.markFirstResponse(caseId, this.now());
    const { message } = await conversations.appendMessage({
      conversationId: record.conversationId,
      messageId: `a-${randomUUID()}`,
      role: 'agent',
      text,
      createdAt: this.now(),
      agentName,
      caseId,
    });
    await this.sendAgentFrame(record.conversationId, agentName, text);
    if (this.deps.emailReplies) {
      const conversation = await conversations.getConversation(record.conversationId);
      if (conversation?.channel === 'email') {
        await this.deps.emailReplies.agentReply(record.conversationId, agentName, text);
      }
    }
    if (firstResponse && this.deps.caseWorkflow) {
      // Read after marking: a token parked since `record` was read is found here, and one parked later
      // sees firstResponseAt when it is written (CaseWorkflow.registerWait), so no wait is missed.
      await this.deps.caseWorkflow.releaseWait((await cases.getCase(caseId)) ?? record, 'replied');
    }
    await events.publish([
      {
        type: 'AgentReplied',
        conversationId: record.conversationId,
        caseId,
        messageId: message.messageId,
        agentName,
        priority: record.priority,
        ...(firstResponse
          ? { firstResponseSeconds: Math.max(0, (clock.now() - Date.parse(record.createdAt)) / 1000) }
          : {}),
      },
    ]);
    return message;
  }

  async resolveCase(caseId: string): Promise<CaseRecord> {
    const now = this.now();
    const record = await this.deps.cases.updateCase(
      caseId,
      { status: 'resolved', resolvedAt: now, updatedAt: now },
      ['open', 'assigned'],
    );
    const conversation = await this.deps.conversations.updateConversation(record.conversationId, {
      status: 'resolved',
      resolvedAt: now,
      updatedAt: now,
    });
    await this.eraseTranscriptWithoutConsent(conversation);
    await this.deps.caseWorkflow?.releaseWait(record, 'resolved');
    await this.deps.events.publish([resolvedEvent(conversation, 'human', this.deps.clock.now(), caseId)]);
    return record;
  }

  /**
   * The customer ends the conversation (the widget's "End chat"). A case nobody answered yet is abandoned:
   * its workflow stops waiting and the CRM case closes. A case an agent is working on stays theirs.
   */
  async endConversation(
    connectionId: string,
    conversationId: string,
  ): Promise<{ readonly ended: boolean; readonly caseId?: string }> {
    const { connections, conversations, cases, events } = this.deps;
    const connection = await connections.getConnection(connectionId);
    if (connection?.conversationId !== conversationId) {
      throw new NotFoundError('this connection has no such conversation');
    }
    const conversation = await conversations.getConversation(conversationId);
    if (!conversation) throw new NotFoundError(`conversation ${conversationId} not found`);
    if (conversation.status === 'bot') {
      await this.resolveAutomated(conversation);
      return { ended: true };
    }
    if (!conversation.caseId || conversation.status === 'resolved') return { ended: false };
    const current = await cases.getCase(conversation.caseId);
    if (!current || current.firstResponseAt || !['open', 'assigned'].includes(current.status)) {
      return { ended: false, caseId: conversation.caseId };
    }
    const now = this.now();
    let record: CaseRecord;
    try {
      record = await cases.updateCase(current.caseId, { status: 'abandoned', updatedAt: now }, [
        'open',
        'assigned',
      ]);
    } catch (error) {
      if ((error as Error).name === 'StateConflictError') return { ended: false, caseId: current.caseId };
      throw error;
    }
    const ended = await conversations.updateConversation(conversationId, {
      status: 'resolved',
      resolvedAt: now,
      updatedAt: now,
    });
    await this.eraseTranscriptWithoutConsent(ended);
    await this.deps.caseWorkflow?.releaseWait(record, 'abandoned');
    await events.publish([
      {
        type: 'CaseAbandoned',
        conversationId,
        caseId: record.caseId,
        waitedSeconds: Math.max(0, (this.deps.clock.now() - Date.parse(record.createdAt)) / 1000),
      },
    ]);
    await this.broadcastCase(record.caseId);
    return { ended: true, caseId: record.caseId };
  }

  /**
   * A customer left. A conversation the bot answered and nobody escalated counts as resolved by automation
   * once its last connection closes.
   */
  async customerDisconnected(connectionId: string): Promise<void> {
    const { connections, conversations } = this.deps;
    const connection = await connections.getConnection(connectionId);
    await connections.deleteConnection(connectionId);
    if (!connection?.conversationId || connection.role !== 'customer') return;
    const others = (await connections.listByConversation(connection.conversationId)).filter(
      (c) => c.connectionId !== connectionId,
    );
    if (others.length) return;
    const conversation = await conversations.getConversation(connection.conversationId);
    if (conversation) await this.resolveAutomated(conversation);
  }

  /** A conversation the bot answered and nobody escalated counts as resolved by automation. */
  private async resolveAutomated(conversation: ConversationRecord): Promise<void> {
    const { conversations, events } = this.deps;
    if (conversation.status !== 'bot' || !conversation.answeredTurns) return;
    const now = this.now();
    try {
      const resolved = await conversations.updateConversation(
        conversation.conversationId,
        { status: 'resolved', resolvedAt: now, updatedAt: now },
        ['bot'],
      );
      await this.eraseTranscriptWithoutConsent(resolved);
      await events.publish([resolvedEvent(resolved, 'automated', this.deps.clock.now())]);
    } catch (error) {
      if ((error as Error).name !== 'StateConflictError') throw error;
    }
  }

  /**
   * Without transcript consent a resolved conversation keeps its message records (turn history, metrics,
   * audit references) but none of their text. Idempotent: erased messages are skipped.
   */
  private async eraseTranscriptWithoutConsent(conversation: ConversationRecord): Promise<void> {
    if (conversation.consentToStoreTranscripts !== false) return;
    const { conversations } = this.deps;
    const { conversationId } = conversation;
    for (const message of await conversations.listMessages(conversationId)) {
      if (message.text !== ERASED_WITHOUT_CONSENT) {
        await conversations.replaceMessageText(conversationId, message.messageId, ERASED_WITHOUT_CONSENT);
      }
    }
  }

  async listCases(status?: CaseStatus) {
    return this.deps.cases.listCases(status);
  }

  async caseWithTranscript(caseId: string) {
    const record = await this.deps.cases.getCase(caseId);
    if (!record) throw new NotFoundError(`case ${caseId} not found`);
    return { case: record, messages: await this.deps.conversations.listMessages(record.conversationId) };
  }

  /** Tells every connected operator console about a case's current state. */
  async broadcastCase(caseId: string): Promise<void> {
    const record = await this.deps.cases.getCase(caseId);
    if (record) await this.broadcast({ type: 'caseUpdated', case: record });
  }

  /** Shows a new message of a conversation with a case in the operator consoles. */
  async broadcastMessage(conversationId: string, messageId: string): Promise<void> {
    const conversation = await this.deps.conversations.getConversation(conversationId);
    if (!conversation?.caseId || conversation.status === 'bot') return;
    const message = await this.deps.conversations.getMessage(conversationId, messageId);
    if (message)
      await this.broadcast({
        type: 'conversationMessage',
        conversationId,
        caseId: conversation.caseId,
        message,
      });
  }

  /** Registers a connection as an operator console that receives live case updates. */
  async subscribeOperator(connectionId: string): Promise<void> {
    const existing = await this.deps.connections.getConnection(connectionId);
    await this.deps.connections.putConnection({
      connectionId,
      role: 'operator',
      connectedAt: existing?.connectedAt ?? this.now(),
      expiresAt: Math.floor(this.deps.clock.now() / 1000) + CONNECTION_TTL_SECONDS,
      ...(existing?.sourceIp ? { sourceIp: existing.sourceIp } : {}),
      ...(existing?.operatorRoles ? { operatorRoles: existing.operatorRoles } : {}),
    });
  }

  /** A new connection; `identity` is what $connect verified (customer token, operator session). */
  async customerConnected(
    connectionId: string,
    sourceIp?: string,
    identity: {
      readonly customerId?: string;
      readonly consentToStoreTranscripts?: false;
      readonly operatorRoles?: readonly string[];
    } = {},
  ): Promise<void> {
    await this.deps.connections.putConnection({
      connectionId,
      role: 'customer',
      connectedAt: this.now(),
      expiresAt: Math.floor(this.deps.clock.now() / 1000) + CONNECTION_TTL_SECONDS,
      ...(sourceIp ? { sourceIp } : {}),
      ...(identity.customerId ? { customerId: identity.customerId } : {}),
      ...(identity.consentToStoreTranscripts === false ? { consentToStoreTranscripts: false as const } : {}),
      ...(identity.operatorRoles?.length ? { operatorRoles: [...identity.operatorRoles] } : {}),
    });
  }

  private async broadcast(frame: object) {
    const operators = await this.deps.connections.listOperators();
    await Promise.all(
      operators.map(async (c) => {
        if (!(await this.deps.notifier.send(c.connectionId, frame))) {
          await this.deps.connections.deleteConnection(c.connectionId);
        }
      }),
    );
  }

  /** Sends a customer-facing frame for a stored reply to the turn's connection (or the latest one). */
  private async deliver(turn: TurnInput, message: MessageRecord) {
    const frame = frameOf(message, message.clientMessageId);
    const delivered = turn.connectionId ? await this.deps.notifier.send(turn.connectionId, frame) : false;
    if (delivered) return;
    if (this.deps.emailReplies) {
      const conversation = await this.deps.conversations.getConversation(turn.conversationId);
      if (conversation?.channel === 'email') {
        await this.deps.emailReplies.reply(conversation, message);
        return;
      }
    }
    await this.sendToConversation(turn.conversationId, frame);
  }

  private async sendAgentFrame(conversationId: string, agentName: string, text: string) {
    const frame: AgentMessageFrame = { type: 'agentMessage', conversationId, text, agentName };
    await this.sendToConversation(conversationId, frame);
  }

  private async sendToConversation(conversationId: string, frame: object) {
    const live = await this.deps.connections.listByConversation(conversationId);
    await Promise.all(
      live.map(async (c) => {
        if (!(await this.deps.notifier.send(c.connectionId, frame))) {
          await this.deps.connections.deleteConnection(c.connectionId);
        }
      }),
    );
  }
}

function resolvedEvent(
  conversation: ConversationRecord,
  resolvedBy: 'automated' | 'human',
  now: number,
  caseId?: string,
): DomainEvent {
  return {
    type: 'ConversationResolved',
    conversationId: conversation.conversationId,
    resolvedBy,
    ...(caseId ? { caseId } : {}),
    resolutionSeconds: Math.max(0, (now - Date.parse(conversation.createdAt)) / 1000),
    ...(conversation.lastIntent ? { intent: conversation.lastIntent } : {}),
    ...(conversation.lastProductArea ? { productArea: conversation.lastProductArea } : {}),
  };
}

/** A customer's words as stored: PII-masked when the conversation has no transcript consent. */
const storedText = (conversation: ConversationRecord, text: string): string =>
  conversation.consentToStoreTranscripts === false ? maskPii(text).text : text;

/** The customer-facing frame for a stored assistant or escalation message. */
export function frameOf(message: MessageRecord, clientMessageId?: string): ReplyFrame | EscalatedFrame {
  const extra = clientMessageId ? { clientMessageId } : {};
  if (message.escalated && message.caseId) {
    return {
      type: 'escalated',
      conversationId: message.conversationId,
      caseId: message.caseId,
      reason: message.reason ?? 'low_confidence',
      text: message.text,
      ...extra,
    };
  }
  return {
    type: 'reply',
    conversationId: message.conversationId,
    messageId: message.messageId,
    text: message.text,
    intent: message.intent ?? 'general_inquiry',
    productArea: message.productArea ?? 'unknown',
    confidence: message.confidence ?? 0,
    citations: message.citations ?? [],
    escalated: false,
    ...extra,
  };
}
