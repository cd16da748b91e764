/**
 * In-memory fakes of the support desk's ports, with the semantics of the DynamoDB adapters
 * (lambdas/adapters/dynamoSupportStores.ts): idempotent creates return the stored record, conditional
 * updates throw NotFoundError / StateConflictError, expired connections are invisible to readers. Records
 * are copied in and out, as a database would, so a test cannot mutate stored state by accident. Test-only.
 */
import type { DomainEvent, DomainEventType, EventPublisher } from '#core/domainEvents';
import type { Clock } from '#core/ports';
import type { EscalationQueue, TurnInput, TurnStarter } from '#core/supportDesk';
import {
  type CaseRecord,
  type CaseStatus,
  type CaseStore,
  type ConnectionNotifier,
  type ConnectionRecord,
  type ConnectionStore,
  type ConversationRecord,
  type ConversationStatus,
  type ConversationStore,
  type MessageRecord,
  NotFoundError,
  StateConflictError,
} from '#core/supportRecords';

const copy = <T>(value: T): T => structuredClone(value);

/** Merges changes like a DynamoDB `SET`: undefined values leave the attribute as it is. */
function merge<T extends object>(record: T, changes: object): T {
  const defined = Object.entries(changes).filter(([, value]) => value !== undefined);
  return { ...record, ...Object.fromEntries(defined) };
}

function conditionalUpdate<T extends { readonly status: string }>(
  records: Map<string, T>,
  key: string,
  changes: object,
  expectedStatus: readonly string[] | undefined,
  what: string,
): T {
  const current = records.get(key);
  if (!current) throw new NotFoundError(`${what} ${key} not found`);
  if (expectedStatus?.length && !expectedStatus.includes(current.status)) {
    throw new StateConflictError(
      `${what} ${key} is ${current.status}, expected ${expectedStatus.join(' or ')}`,
    );
  }
  const updated = merge(current, changes);
  records.set(key, updated);
  return copy(updated);
}

/** A fake clock in epoch milliseconds that moves only when told to. */
export class FakeClock implements Clock {
  constructor(private current = Date.parse('2026-03-02T09:00:00.000Z')) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(epochMs: number): void {
    this.current = epochMs;
  }
}

export class InMemoryConversationStore implements ConversationStore {
  private readonly conversations = new Map<string, ConversationRecord>();
  private readonly messages = new Map<string, Map<string, MessageRecord>>();

  async getConversation(conversationId: string) {
    const record = this.conversations.get(conversationId);
    return record && copy(record);
  }

  async createConversation(record: ConversationRecord) {
    if (!this.conversations.has(record.conversationId)) {
      this.conversations.set(record.conversationId, copy(record));
    }
    return copy(this.conversations.get(record.conversationId)!);
  }

  async updateConversation(
    conversationId: string,
    changes: Partial<Omit<ConversationRecord, 'conversationId' | 'createdAt'>>,
    expectedStatus?: readonly ConversationStatus[],
  ) {
    return conditionalUpdate(this.conversations, conversationId, changes, expectedStatus, 'conversation');
  }

  async recordAnswer(
    conversationId: string,
    changes: { readonly lastIntent: string; readonly lastProductArea: string; readonly updatedAt: string },
  ) {
    const record = this.conversations.get(conversationId);
    if (!record) throw new NotFoundError(`conversation ${conversationId} not found`);
    this.conversations.set(conversationId, {
      ...record,
      ...changes,
      answeredTurns: (record.answeredTurns ?? 0) + 1,
    });
  }

  async appendMessage(message: MessageRecord) {
    let messages = this.messages.get(message.conversationId);
    if (!messages) {
      messages = new Map();
      this.messages.set(message.conversationId, messages);
    }
    const existing = messages.get(message.messageId);
    if (existing) return { created: false, message: copy(existing) };
    messages.set(message.messageId, copy(message));
    return { created: true, message: copy(message) };
  }

  async getMessage(conversationId: string, messageId: string) {
    const message = this.messages.get(conversationId)?.get(messageId);
    return message && copy(message);
  }

  async listMessages(conversationId: string) {
    return [...(this.messages.get(conversationId)?.values() ?? [])]
      .map(copy)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.messageId.localeCompare(b.messageId));
  }

  async replaceMessageText(conversationId: string, messageId: string, text: string) {
    const messages = this.messages.get(conversationId);
    const message = messages?.get(messageId);
    if (messages && message) messages.set(messageId, { ...message, text });
  }

  async listByCustomer(customerId: string) {
    return [...this.conversations.values()]
      .filter((c) => c.customerId === customerId)
      .map(copy)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async deleteConversation(conversationId: string) {
    const messages = this.messages.get(conversationId)?.size ?? 0;
    this.messages.delete(conversationId);
    return { conversation: this.conversations.delete(conversationId), messages };
  }

  /** Whether any message of the conversation is stored (for asserting erasures). */
  hasMessages(conversationId: string): boolean {
    return (this.messages.get(conversationId)?.size ?? 0) > 0;
  }
}

export class InMemoryCaseStore implements CaseStore {
  private readonly cases = new Map<string, CaseRecord>();

  async createCase(record: CaseRecord) {
    if (!this.cases.has(record.caseId)) this.cases.set(record.caseId, copy(record));
    return copy(this.cases.get(record.caseId)!);
  }

  async getCase(caseId: string) {
    const record = this.cases.get(caseId);
    return record && copy(record);
  }

  /** Newest first, like the byStatus index queries merged by the DynamoDB store. */
  async listCases(status?: CaseStatus) {
    return [...this.cases.values()]
      .filter((c) => status === undefined || c.status === status)
      .map(copy)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async updateCase(
    caseId: string,
    changes: Partial<Omit<CaseRecord, 'caseId' | 'conversationId' | 'createdAt'>>,
    expectedStatus?: readonly CaseStatus[],
  ) {
    return conditionalUpdate(this.cases, caseId, changes, expectedStatus, 'case');
  }

  async listByConversation(conversationId: string) {
    return [...this.cases.values()]
      .filter((c) => c.conversationId === conversationId)
      .map(copy)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async deleteCase(caseId: string) {
    return this.cases.delete(caseId);
  }

  async markFirstResponse(caseId: string, at: string) {
    return this.setOnce(caseId, 'firstResponseAt', at);
  }

  async markNotified(caseId: string, at: string) {
    return this.setOnce(caseId, 'notifiedAt', at);
  }

  private setOnce(caseId: string, attribute: 'firstResponseAt' | 'notifiedAt', at: string) {
    const record = this.cases.get(caseId);
    if (!record || record[attribute] !== undefined) return false;
    this.cases.set(caseId, { ...record, [attribute]: at });
    return true;
  }
}

/** Connections whose `expiresAt` has passed on the given clock are invisible to readers (TTL). */
export class InMemoryConnectionStore implements ConnectionStore {
  private readonly connections = new Map<string, ConnectionRecord>();

  constructor(private readonly clock: Clock) {}

  private live = (record: ConnectionRecord | undefined) =>
    record && record.expiresAt * 1000 > this.clock.now() ? copy(record) : undefined;

  async putConnection(record: ConnectionRecord) {
    this.connections.set(record.connectionId, copy(record));
  }

  async getConnection(connectionId: string) {
    return this.live(this.connections.get(connectionId));
  }

  async deleteConnection(connectionId: string) {
    this.connections.delete(connectionId);
  }

  /** Like the conditional update on AWS: a no-op for a connection that was never stored (or was deleted). */
  async attachConversation(connectionId: string, conversationId: string) {
    const record = this.connections.get(connectionId);
    if (record) this.connections.set(connectionId, { ...record, conversationId });
  }

  async listOperators() {
    return [...this.connections.values()]
      .filter((c) => c.role === 'operator')
      .flatMap((c) => this.live(c) ?? []);
  }

  async listByConversation(conversationId: string) {
    return [...this.connections.values()]
      .filter((c) => c.conversationId === conversationId)
      .flatMap((c) => this.live(c) ?? []);
  }

  /** Whether a record is stored at all, expired or not (for asserting deletions). */
  has(connectionId: string): boolean {
    return this.connections.has(connectionId);
  }
}

/** Records frames per connection; connections marked gone refuse frames, like a 410 from @connections. */
export class RecordingNotifier implements ConnectionNotifier {
  private readonly frames = new Map<string, object[]>();
  private readonly gone = new Set<string>();

  constructor(options: { readonly gone?: readonly string[] } = {}) {
    for (const id of options.gone ?? []) this.gone.add(id);
  }

  markGone(connectionId: string): void {
    this.gone.add(connectionId);
  }

  async send(connectionId: string, frame: object): Promise<boolean> {
    if (this.gone.has(connectionId)) return false;
    const frames = this.frames.get(connectionId) ?? [];
    frames.push(copy(frame));
    this.frames.set(connectionId, frames);
    return true;
  }

  /** Frames delivered to a connection, oldest first. */
  framesFor(connectionId: string): Record<string, unknown>[] {
    return [...(this.frames.get(connectionId) ?? [])] as Record<string, unknown>[];
  }
}

export class RecordingEventPublisher implements EventPublisher {
  readonly published: DomainEvent[] = [];

  async publish(events: readonly DomainEvent[]): Promise<void> {
    this.published.push(...events.map(copy));
  }

  ofType<T extends DomainEventType>(type: T): Extract<DomainEvent, { type: T }>[] {
    return this.published.filter((e): e is Extract<DomainEvent, { type: T }> => e.type === type);
  }
}

export class RecordingTurnStarter implements TurnStarter {
  readonly started: { readonly input: TurnInput; readonly idempotencyKey: string }[] = [];

  async start(input: TurnInput, idempotencyKey: string): Promise<void> {
    this.started.push({ input: copy(input), idempotencyKey });
  }
}

/** Records enqueued cases; `failNext` makes the next enqueue throw (and records nothing), like an SQS outage. */
export class RecordingEscalationQueue implements EscalationQueue {
  readonly enqueued: { readonly caseId: string; readonly conversationId: string }[] = [];
  private failures: Error[] = [];

  failNext(error = new Error('escalation queue unavailable')): void {
    this.failures.push(error);
  }

  async enqueue(message: { readonly caseId: string; readonly conversationId: string }): Promise<void> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.enqueued.push(copy(message));
  }
}
