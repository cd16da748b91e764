/**
 * In-memory fakes of the e-mail channel's ports, with the semantics of DynamoEmailStore
 * (lambdas/adapters/dynamoEmailStore.ts): claims with leases, first Message-ID link wins, an older inbound
 * never replaces a newer last inbound; plus a recording EmailSender. Test-only.
 */
import type { EmailThreadRecords } from '#core/customerData';
import type { EmailLog, EmailThreadContext, EmailThreadStore, InboundClaim } from '#core/emailChannel';
import { type EmailSender, normaliseMessageId, type OutboundEmail } from '#core/emailThreading';

const copy = <T>(value: T): T => structuredClone(value);

export class InMemoryEmailLog implements EmailLog {
  private readonly inbound = new Map<string, { status: 'processing' | 'done'; leaseUntil: number }>();
  private readonly replies = new Map<string, number[]>();

  async claimInbound(messageKey: string, now: number, leaseMs: number): Promise<InboundClaim> {
    const current = this.inbound.get(messageKey);
    if (current?.status === 'done') return 'processed';
    if (current && current.leaseUntil >= now) return 'inProgress';
    this.inbound.set(messageKey, { status: 'processing', leaseUntil: now + leaseMs });
    return 'claimed';
  }

  async completeInbound(messageKey: string): Promise<void> {
    this.inbound.set(messageKey, { status: 'done', leaseUntil: 0 });
  }

  async releaseInbound(messageKey: string): Promise<void> {
    if (this.inbound.get(messageKey)?.status === 'processing') this.inbound.delete(messageKey);
  }

  async recordReply(sender: string, sentAt: number): Promise<void> {
    const key = sender.toLowerCase();
    this.replies.set(key, [...(this.replies.get(key) ?? []), sentAt]);
  }

  async repliesSince(sender: string, since: number) {
    return (this.replies.get(sender.toLowerCase()) ?? [])
      .filter((t) => t > since)
      .map((sentAt) => ({ sentAt }));
  }
}

export class InMemoryEmailThreadStore implements EmailThreadStore, EmailThreadRecords {
  private readonly messages = new Map<string, string>();
  private readonly cases = new Map<string, string>();
  private readonly last = new Map<string, EmailThreadContext>();

  async findConversationByMessageId(messageKey: string) {
    return this.messages.get(messageKey);
  }

  async linkMessageId(messageKey: string, conversationId: string) {
    if (!this.messages.has(messageKey)) this.messages.set(messageKey, conversationId);
  }

  async findConversationByCaseId(caseId: string) {
    return this.cases.get(caseId);
  }

  async linkCase(caseId: string, conversationId: string) {
    if (!this.cases.has(caseId)) this.cases.set(caseId, conversationId);
  }

  async lastInbound(conversationId: string) {
    const context = this.last.get(conversationId);
    return context && copy(context);
  }

  async saveLastInbound(context: EmailThreadContext) {
    const current = this.last.get(context.conversationId);
    if (!current || current.receivedAt <= context.receivedAt)
      this.last.set(context.conversationId, copy(context));
  }

  /** Like DynamoEmailStore: case links, the context's Message-ID links (this conversation's only), the context. */
  async eraseThread(conversationId: string, caseIds: readonly string[]) {
    const context = this.last.get(conversationId);
    let erased = 0;
    for (const caseId of caseIds) {
      if (this.cases.get(caseId) === conversationId && this.cases.delete(caseId)) erased++;
    }
    for (const id of [context?.messageId, context?.inReplyTo, ...(context?.references ?? [])]) {
      const key = normaliseMessageId(id);
      if (key && this.messages.get(key) === conversationId && this.messages.delete(key)) erased++;
    }
    if (this.last.delete(conversationId)) erased++;
    return erased;
  }
}

/** Keeps every mail it is given; can be told to fail the next sends. */
export class RecordingEmailSender implements EmailSender {
  readonly sent: OutboundEmail[] = [];
  failures = 0;
  private counter = 0;

  async send(mail: OutboundEmail) {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('mail relay unavailable');
    }
    this.sent.push(copy(mail));
    return { messageId: mail.messageId ?? `<generated-${++this.counter}@test.invalid>` };
  }
}
