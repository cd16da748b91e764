/**
 * What SupportMax stores about conversations, messages, cases and live connections, and the ports that
 * store them (DynamoDB in both faces: dynalite locally). Writes are idempotent by key so that retried
 * Lambda invocations and replayed workflow steps never duplicate a message or a case.
 */
import type { Citation } from './conversationEngine';
import type { EscalationReason } from './escalationPolicy';

export type ConversationStatus = 'bot' | 'escalated' | 'human' | 'resolved';

export interface ConversationRecord {
  readonly conversationId: string;
  readonly status: ConversationStatus;
  readonly channel: 'chat' | 'email';
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Latest customer connection, for agent messages. */
  readonly connectionId?: string;
  readonly customerId?: string;
  readonly caseId?: string;
  readonly lastIntent?: string;
  readonly lastProductArea?: string;
  readonly answeredTurns?: number;
  readonly resolvedAt?: string;
  /**
   * False when the customer's token said `transcript_consent: false`: customer messages are stored with PII
   * masked and every message's text is erased when the conversation is resolved. Absent means consent.
   */
  readonly consentToStoreTranscripts?: false;
}

/** The text a message keeps once its conversation is resolved without transcript consent. */
export const ERASED_WITHOUT_CONSENT = '[erased: no transcript consent]';

export type MessageRole = 'customer' | 'assistant' | 'agent' | 'system';

export interface MessageRecord {
  readonly conversationId: string;
  readonly messageId: string;
  readonly role: MessageRole;
  readonly text: string;
  readonly createdAt: string;
  /** For assistant/system messages: the customer message they respond to. */
  readonly replyTo?: string;
  readonly intent?: string;
  readonly productArea?: string;
  readonly confidence?: number;
  readonly citations?: readonly Citation[];
  readonly escalated?: boolean;
  readonly caseId?: string;
  readonly reason?: EscalationReason;
  readonly agentName?: string;
  /** The client's id for a customer message, echoed on the answer so clients can match them. */
  readonly clientMessageId?: string;
}

/** `abandoned`: the customer ended the conversation before an agent answered. */
export type CaseStatus = 'open' | 'assigned' | 'resolved' | 'abandoned';
export const CASE_STATUSES: readonly CaseStatus[] = ['open', 'assigned', 'resolved', 'abandoned'];
export type Priority = 'P1' | 'P2' | 'P3' | 'P4';

export interface HandoffPacket {
  readonly summary: string;
  readonly intent: string;
  readonly productArea: string;
  readonly confidence: number;
  readonly reason: EscalationReason;
  readonly sentiment: number;
  readonly urgency: number;
  readonly faqsTried: readonly Citation[];
  readonly entities: Record<string, readonly string[]>;
  /** Triage signals (caseTriage.detectSignals), e.g. 'outage', 'security'. */
  readonly signals?: readonly string[];
  /** Why the case got its priority: the matched priority rule's `why`. */
  readonly priorityReason?: string;
  /** The customer tier triage used ('unknown' without a CRM match). */
  readonly tier?: string;
  readonly customer?: {
    readonly customerId?: string;
    readonly name?: string;
    readonly email?: string;
    readonly tier?: string;
    readonly company?: string;
  };
}

export interface CaseRecord {
  readonly caseId: string;
  readonly conversationId: string;
  readonly status: CaseStatus;
  readonly priority: Priority;
  readonly queue: string;
  readonly reason: EscalationReason;
  readonly subject: string;
  readonly intent: string;
  readonly productArea: string;
  readonly confidence: number;
  readonly handoff: HandoffPacket;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly assignee?: string;
  readonly firstResponseAt?: string;
  readonly resolvedAt?: string;
  /** Set by the escalation workflow once the customer is known (CRM lookup). */
  readonly tier?: string;
  /** Support level now responsible (L1 → L2 → L3 on SLA breaches). */
  readonly level?: string;
  /** When the first response is due at the current level (ISO). */
  readonly slaDueAt?: string;
  readonly slaTargetSeconds?: number;
  readonly slaBreaches?: number;
  /** The escalation workflow's callback token while it waits for an agent. */
  readonly waitToken?: string;
  /** The case in the external CRM, once mirrored there. */
  readonly crm?: { readonly system: string; readonly caseId: string };
  readonly crmError?: string;
  /** When operators were notified of the case (set once). */
  readonly notifiedAt?: string;
  /** How the escalation workflow's wait ended. */
  readonly workflowOutcome?: 'replied' | 'resolved' | 'abandoned';
}

export interface ConnectionRecord {
  readonly connectionId: string;
  readonly role: 'customer' | 'operator';
  readonly connectedAt: string;
  readonly conversationId?: string;
  readonly sourceIp?: string;
  /** The customer id from a verified customer token on $connect; absent for anonymous customers. */
  readonly customerId?: string;
  /** False when the customer token said `transcript_consent: false`; absent means consent. */
  readonly consentToStoreTranscripts?: false;
  /** Roles of the operator whose session opened the connection; absent for customers. */
  readonly operatorRoles?: readonly string[];
  /** Epoch seconds after which the record is stale (TTL on AWS; filtered by readers locally). */
  readonly expiresAt: number;
}

export interface ConversationStore {
  getConversation(conversationId: string): Promise<ConversationRecord | undefined>;
  /** Creates the conversation unless it exists; returns the stored record either way. */
  createConversation(record: ConversationRecord): Promise<ConversationRecord>;
  updateConversation(
    conversationId: string,
    changes: Partial<Omit<ConversationRecord, 'conversationId' | 'createdAt'>>,
    expectedStatus?: readonly ConversationStatus[],
  ): Promise<ConversationRecord>;
  /** Counts one more bot answer and remembers what it was about (atomic increment). */
  recordAnswer(
    conversationId: string,
    changes: { readonly lastIntent: string; readonly lastProductArea: string; readonly updatedAt: string },
  ): Promise<void>;
  /** Appends unless a message with this id exists; `created` tells which. */
  appendMessage(
    message: MessageRecord,
  ): Promise<{ readonly created: boolean; readonly message: MessageRecord }>;
  getMessage(conversationId: string, messageId: string): Promise<MessageRecord | undefined>;
  /** Messages oldest first. */
  listMessages(conversationId: string): Promise<MessageRecord[]>;
  /** Replaces a stored message's text (transcript erasure); a no-op for a message that is not stored. */
  replaceMessageText(conversationId: string, messageId: string, text: string): Promise<void>;
  /** The customer's conversations (signed-in and e-mail customers), oldest first. */
  listByCustomer(customerId: string): Promise<ConversationRecord[]>;
  /**
   * Deletes the conversation's messages, then the conversation, then messages that arrived meanwhile, so an
   * interrupted call leaves the conversation to be found and erased again. Counts what this call deleted.
   */
  deleteConversation(
    conversationId: string,
  ): Promise<{ readonly conversation: boolean; readonly messages: number }>;
}

export interface CaseStore {
  /** Creates the case unless it exists; returns the stored record either way. */
  createCase(record: CaseRecord): Promise<CaseRecord>;
  getCase(caseId: string): Promise<CaseRecord | undefined>;
  listCases(status?: CaseStatus): Promise<CaseRecord[]>;
  listByConversation(conversationId: string): Promise<CaseRecord[]>;
  /** True when this call deleted the case. */
  deleteCase(caseId: string): Promise<boolean>;
  updateCase(
    caseId: string,
    changes: Partial<Omit<CaseRecord, 'caseId' | 'conversationId' | 'createdAt'>>,
    expectedStatus?: readonly CaseStatus[],
  ): Promise<CaseRecord>;
  /** Sets firstResponseAt unless already set; true when this call set it (exactly one caller wins). */
  markFirstResponse(caseId: string, at: string): Promise<boolean>;
  /** Sets notifiedAt unless already set; true when this call set it (exactly one caller wins). */
  markNotified(caseId: string, at: string): Promise<boolean>;
}

export interface ConnectionStore {
  putConnection(record: ConnectionRecord): Promise<void>;
  getConnection(connectionId: string): Promise<ConnectionRecord | undefined>;
  deleteConnection(connectionId: string): Promise<void>;
  attachConversation(connectionId: string, conversationId: string): Promise<void>;
  listOperators(): Promise<ConnectionRecord[]>;
  listByConversation(conversationId: string): Promise<ConnectionRecord[]>;
}

/** Thrown when a conditional update finds the record in another state (e.g. resolving a resolved case). */
export class StateConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateConflictError';
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** Pushes frames to WebSocket connections; false when the connection is gone. */
export interface ConnectionNotifier {
  send(connectionId: string, frame: object): Promise<boolean>;
}
