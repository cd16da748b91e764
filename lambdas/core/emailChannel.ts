/**
 * The e-mail channel: a parsed inbound mail becomes a turn of a conversation (the same support desk and
 * engine as chat answer or escalate it), and the outcome goes back as a threaded reply. Pure domain: the
 * stores, the sender, the desk and the clock are injected.
 *
 * Safety first: machine-written mail (auto-replies, bounces, lists) is never answered; each inbound
 * Message-ID is processed once; automatic replies per sender are rate limited so a loop with another robot
 * stops; a case token in the subject only threads a mail from the conversation's own correspondent.
 */
import { createHash, randomUUID } from 'node:crypto';
import { MAX_MESSAGE_CHARS } from './chatProtocol';
import type { Citation } from './conversationEngine';
import {
  caseTokenOf,
  DEFAULT_LOOP_LIMITS,
  type EmailAddress,
  type EmailSender,
  type InboundEmail,
  isAutomatedMail,
  LOOP_GUARD_WINDOW_MS,
  type LoopGuardLimits,
  normaliseMessageId,
  replyHeaders,
  replySubject,
  shouldReply,
  subjectTopic,
  threadKeysOf,
  withCaseToken,
} from './emailThreading';
import type { Clock } from './ports';

export type InboundClaim = 'claimed' | 'processed' | 'inProgress';

/**
 * What the channel remembers about mail it handled: inbound Message-IDs (idempotency) and automatic
 * replies per sender (loop guard). Keys are normalised Message-IDs and lower-case addresses.
 */
export interface EmailLog {
  /**
   * Starts processing an inbound mail unless it was processed, or another worker holds an unexpired lease
   * on it. 'claimed' means: go ahead, then call completeInbound (or releaseInbound on failure).
   */
  claimInbound(messageKey: string, now: number, leaseMs: number): Promise<InboundClaim>;
  completeInbound(messageKey: string, now: number): Promise<void>;
  /** Gives up a claim after a failure, so a retry processes the mail again at once. */
  releaseInbound(messageKey: string): Promise<void>;
  recordReply(sender: string, sentAt: number): Promise<void>;
  /** Automatic replies sent to `sender` after `since` (epoch ms). */
  repliesSince(sender: string, since: number): Promise<{ readonly sentAt: number }[]>;
}

/** Where the last customer mail of a conversation stands in its thread: what an agent's reply answers. */
export interface EmailThreadContext {
  readonly conversationId: string;
  readonly messageId: string;
  readonly inReplyTo?: string;
  readonly references: readonly string[];
  readonly from: EmailAddress;
  readonly subject: string;
  readonly receivedAt: string;
  readonly caseId?: string;
}

/** Message-ID → conversation links, case → conversation links and each conversation's last inbound mail. */
export interface EmailThreadStore {
  findConversationByMessageId(messageKey: string): Promise<string | undefined>;
  linkMessageId(messageKey: string, conversationId: string): Promise<void>;
  findConversationByCaseId(caseId: string): Promise<string | undefined>;
  linkCase(caseId: string, conversationId: string): Promise<void>;
  lastInbound(conversationId: string): Promise<EmailThreadContext | undefined>;
  /** Stores the context unless a later inbound mail of the same conversation is stored already. */
  saveLastInbound(context: EmailThreadContext): Promise<void>;
}

/** One customer mail handed to the support desk. */
export interface EmailTurn {
  /**
   * The conversation: a known one when the mail continues a thread, else a new id derived from the mail's
   * Message-ID (a retried mail lands in the same conversation). The desk creates it when it does not exist.
   */
  readonly conversationId: string;
  /** True when no earlier mail or case was found for this one. */
  readonly newConversation: boolean;
  readonly customerId?: string;
  /** The customer's own words (quotes and signature removed), or the subject when the body is empty. */
  readonly text: string;
  /** The subject without reply prefixes and case token. */
  readonly subject: string;
  readonly inbound: InboundEmail;
}

export interface EmailTurnResult {
  readonly conversationId: string;
  /**
   * 'forwarded': a human has the conversation, the bot does not reply. 'pending': the turn runs on (the
   * turn workflow) and its result is sent later with `replyToLastInbound`.
   */
  readonly outcome: 'answered' | 'escalated' | 'forwarded' | 'pending';
  readonly replyText: string;
  readonly caseId?: string;
  readonly citations?: readonly Citation[];
}

export type ThreadedBy = 'caseToken' | 'reference' | 'new';

export type EmailReceiveOutcome =
  | { readonly kind: 'dropped'; readonly reason: string }
  | { readonly kind: 'duplicate'; readonly messageId: string; readonly inProgress: boolean }
  | {
      readonly kind: 'delivered';
      readonly conversationId: string;
      readonly outcome: EmailTurnResult['outcome'];
      readonly threadedBy: ThreadedBy;
      readonly caseId?: string;
      /** The reply sent, if any. */
      readonly reply?: { readonly messageId: string };
      /** Why no reply was sent. */
      readonly replySkipped?: string;
    };

export interface EmailChannelLogger {
  info(message: string, detail: Record<string, unknown>): void;
  warn(message: string, detail: Record<string, unknown>): void;
}

export interface EmailChannelDependencies {
  readonly sender: EmailSender;
  readonly log: EmailLog;
  readonly threads: EmailThreadStore;
  readonly clock: Clock;
  /** Our address: the From of every reply, and the domain of our Message-IDs. */
  readonly supportAddress: EmailAddress;
  /** Hands the turn to the support desk (engine answer or escalation) and says what to reply. */
  readonly deliver: (turn: EmailTurn) => Promise<EmailTurnResult>;
  /** Customer id for a sender address (CRM lookup), if known. */
  readonly findCustomerByEmail?: (address: string) => Promise<string | undefined>;
  /** Conversation of a case the channel did not open itself (e.g. a chat case answered by mail). */
  readonly conversationOfCase?: (caseId: string) => Promise<string | undefined>;
  /** Public link of a FAQ, listed under an answer's sources. */
  readonly faqUrl?: (faqId: string) => string | undefined;
  /** @default DEFAULT_LOOP_LIMITS (5 per hour, 20 per day) */
  readonly limits?: LoopGuardLimits;
  /** @default MAX_MESSAGE_CHARS, the chat limit: longer bodies are cut */
  readonly maxTextChars?: number;
  /** How long a claim on an inbound mail blocks duplicates before another worker may retry. @default 5 min */
  readonly processingLeaseMs?: number;
  readonly logger?: EmailChannelLogger;
}

/** The conversation has no recorded inbound mail (a chat conversation, or the mail is not saved yet). */
export class EmailThreadNotFoundError extends Error {
  constructor(readonly conversationId: string) {
    super(`conversation ${conversationId} has no e-mail thread`);
    this.name = 'EmailThreadNotFoundError';
  }
}

const ANSWER_FOOTER = 'Reply to this e-mail to continue the conversation.';
const caseFooter = (caseId: string) =>
  `Please keep [${caseId}] in the subject when you write to us about this case.`;

const hashOf = (value: string, length: number) =>
  createHash('sha256').update(value).digest('base64url').replace(/[-_]/g, '').slice(0, length);

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export class EmailChannel {
  private readonly domain: string;

  constructor(private readonly deps: EmailChannelDependencies) {
    if (!/^[^\s@]+@[^\s@]+$/.test(deps.supportAddress.address)) {
      throw new Error(`supportAddress must be an e-mail address, got "${deps.supportAddress.address}"`);
    }
    this.domain = domainOf(deps.supportAddress.address);
  }

  /** Handles one inbound mail end to end. Throws only when a port fails; the claim is then released. */
  async receive(inbound: InboundEmail): Promise<EmailReceiveOutcome> {
    const { log, clock } = this.deps;
    const keys = threadKeysOf(inbound);
    const dropped = this.dropReason(inbound);
    if (dropped) {
      this.deps.logger?.info('e-mail dropped without reply', {
        reason: dropped,
        messageId: keys.messageId,
        senderDomain: domainOf(inbound.from.address),
      });
      return { kind: 'dropped', reason: dropped };
    }
    const claim = await log.claimInbound(keys.messageId, clock.now(), this.deps.processingLeaseMs ?? 300_000);
    if (claim !== 'claimed') {
      this.deps.logger?.info('duplicate e-mail ignored', { messageId: keys.messageId, claim });
      return { kind: 'duplicate', messageId: inbound.messageId, inProgress: claim === 'inProgress' };
    }
    try {
      const outcome = await this.process(inbound, keys.messageId, keys.parents);
      await log.completeInbound(keys.messageId, clock.now());
      return outcome;
    } catch (error) {
      await log.releaseInbound(keys.messageId).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Sends an agent's console reply on an e-mail conversation, threaded to the customer's last mail.
   * Undefined when the conversation has no e-mail thread (a chat conversation).
   */
  async sendAgentReply(
    conversationId: string,
    agentName: string,
    text: string,
  ): Promise<{ readonly messageId: string } | undefined> {
    const context = await this.deps.threads.lastInbound(conversationId);
    if (!context) return undefined;
    const messageId = `<agent-${randomUUID()}@${this.domain}>`;
    const threading = replyHeaders(context, messageId, 'agent');
    const subject = context.caseId
      ? withCaseToken(replySubject(context.subject), context.caseId)
      : replySubject(context.subject);
    const footer = context.caseId ? caseFooter(context.caseId) : ANSWER_FOOTER;
    const sent = await this.sendLinked(conversationId, {
      from: { address: this.deps.supportAddress.address, name: `${agentName} (${this.supportName()})` },
      to: [context.from],
      subject,
      text: `${text.trim()}\n\n${agentName}\n${this.supportName()}\n\n${footer}\n`,
      messageId,
      inReplyTo: threading.inReplyTo,
      references: threading.references,
    });
    return { messageId: sent.messageId };
  }

  private dropReason(inbound: InboundEmail): string | undefined {
    if (inbound.from.address.toLowerCase() === this.deps.supportAddress.address.toLowerCase()) {
      return 'sent from our own address';
    }
    const auth = inbound.authentication;
    if (auth?.virus === 'fail') return 'virus found';
    if (auth?.spam === 'fail') return 'spam';
    // Neither SPF nor DKIM vouches for the sender: likely a forged From. Replying would send mail to
    // someone who never wrote to us (backscatter).
    if (auth && auth.spf !== 'pass' && auth.dkim !== 'pass') return 'failed SPF and DKIM (forged sender)';
    return isAutomatedMail(inbound);
  }

  private async process(
    inbound: InboundEmail,
    messageKey: string,
    parents: readonly string[],
  ): Promise<EmailReceiveOutcome> {
    const { threads } = this.deps;
    const thread = await this.resolveThread(inbound, parents);
    const contextFor = (conversationId: string, caseId: string | undefined): EmailThreadContext => ({
      conversationId,
      messageId: inbound.messageId,
      ...(inbound.inReplyTo ? { inReplyTo: inbound.inReplyTo } : {}),
      references: inbound.references,
      from: inbound.from,
      subject: inbound.subject,
      receivedAt: inbound.receivedAt,
      ...(caseId ? { caseId } : {}),
    });
    const conversationId = thread.conversationId ?? `em-${hashOf(messageKey, 24)}`;
    const previous = thread.conversationId ? await threads.lastInbound(conversationId) : undefined;
    let caseId = thread.caseId ?? previous?.caseId;
    // Before the desk sees the turn: a reply sent later by the turn workflow must find this mail.
    await threads.saveLastInbound(contextFor(conversationId, caseId));
    await threads.linkMessageId(messageKey, conversationId);
    // The sender's address is an identity only when DKIM proves it (on AWS); locally there is no verdict.
    const verified = !inbound.authentication || inbound.authentication.dkim === 'pass';
    const customerId = verified ? await this.deps.findCustomerByEmail?.(inbound.from.address) : undefined;
    const subject = subjectTopic(inbound.subject);
    const result = await this.deps.deliver({
      conversationId,
      newConversation: !thread.conversationId,
      ...(customerId ? { customerId } : {}),
      text: truncate(inbound.text.trim() || subject, this.deps.maxTextChars ?? MAX_MESSAGE_CHARS),
      subject,
      inbound,
    });
    // The desk may have started another conversation (e.g. the referenced one is gone).
    const moved = result.conversationId !== conversationId;
    if (moved) await threads.linkMessageId(messageKey, result.conversationId);
    if (result.caseId && result.caseId !== caseId) {
      caseId = result.caseId;
      await threads.linkCase(caseId, result.conversationId);
    }
    if (moved || caseId !== (thread.caseId ?? previous?.caseId)) {
      await threads.saveLastInbound(contextFor(result.conversationId, caseId));
    }
    const delivered = {
      kind: 'delivered' as const,
      conversationId: result.conversationId,
      outcome: result.outcome,
      threadedBy: thread.by,
      ...(caseId ? { caseId } : {}),
    };
    if (result.outcome === 'pending') {
      return { ...delivered, replySkipped: 'the reply follows when the turn completes' };
    }
    return { ...delivered, ...(await this.sendBotReply(result.conversationId, inbound, result, caseId)) };
  }

  /**
   * The bot's reply for a turn that completed after `receive` returned (deliver said 'pending'), threaded to
   * the conversation's last inbound mail (recorded before deliver ran, so the workflow cannot outrun it).
   * Throws EmailThreadNotFoundError for a conversation without mail: check `channel === 'email'` first.
   */
  async replyToLastInbound(
    conversationId: string,
    result: Omit<EmailTurnResult, 'conversationId'>,
  ): Promise<{ readonly reply?: { readonly messageId: string }; readonly replySkipped?: string }> {
    const { threads } = this.deps;
    const context = await threads.lastInbound(conversationId);
    if (!context) throw new EmailThreadNotFoundError(conversationId);
    const caseId = result.caseId ?? context.caseId;
    if (result.caseId && result.caseId !== context.caseId) {
      await threads.linkCase(result.caseId, conversationId);
      await threads.saveLastInbound({ ...context, caseId: result.caseId });
    }
    return this.sendBotReply(conversationId, context, result, caseId);
  }

  /** Reply to one inbound mail, unless a human has the conversation or the loop guard says stop. */
  private async sendBotReply(
    conversationId: string,
    origin: Pick<InboundEmail, 'messageId' | 'inReplyTo' | 'references' | 'from' | 'subject'>,
    result: Omit<EmailTurnResult, 'conversationId'>,
    caseId: string | undefined,
  ): Promise<{ readonly reply?: { readonly messageId: string }; readonly replySkipped?: string }> {
    if (result.outcome === 'forwarded') return { replySkipped: 'a human is handling the conversation' };
    if (result.outcome === 'pending' || !result.replyText.trim()) return { replySkipped: 'nothing to reply' };
    const sender = origin.from.address.toLowerCase();
    const originKey = normaliseMessageId(origin.messageId) ?? origin.messageId;
    const now = this.deps.clock.now();
    const history = await this.deps.log.repliesSince(sender, now - LOOP_GUARD_WINDOW_MS);
    if (!shouldReply(history, now, this.deps.limits ?? DEFAULT_LOOP_LIMITS)) {
      this.deps.logger?.warn('reply suppressed by the loop guard', {
        messageId: originKey,
        senderDomain: domainOf(sender),
        repliesInWindow: history.length,
      });
      return { replySkipped: 'reply rate limit for this sender reached' };
    }
    // Deterministic: a retried turn sends the same Message-ID, which receivers deduplicate. The text is part
    // of it because two turns may answer the same last mail (a second mail arrived while the first ran).
    const messageId = `<reply-${hashOf(`${originKey}\n${result.replyText}`, 24)}@${this.domain}>`;
    const threading = replyHeaders(origin, messageId, 'bot');
    const baseSubject = replySubject(origin.subject);
    const sent = await this.sendLinked(conversationId, {
      from: this.deps.supportAddress,
      to: [origin.from],
      subject: caseId ? withCaseToken(baseSubject, caseId) : baseSubject,
      text: this.replyBody(result, caseId),
      messageId,
      inReplyTo: threading.inReplyTo,
      references: threading.references,
      // RFC 3834 for well-behaved robots, the Exchange header for out-of-office assistants.
      headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' },
    });
    await this.deps.log.recordReply(sender, now);
    return { reply: { messageId: sent.messageId } };
  }

  /** Case token first, then In-Reply-To/References, else a new conversation. */
  private async resolveThread(
    inbound: InboundEmail,
    parents: readonly string[],
  ): Promise<{ conversationId?: string; caseId?: string; by: ThreadedBy }> {
    const { threads } = this.deps;
    const byReference = async () => {
      // Bounded: a hostile References header must not cost hundreds of lookups.
      for (const key of parents.slice(0, 12)) {
        const conversationId = await threads.findConversationByMessageId(key);
        if (conversationId) return conversationId;
      }
      return undefined;
    };
    const token = caseTokenOf(inbound.subject);
    if (token) {
      const conversationId =
        (await threads.findConversationByCaseId(token)) ?? (await this.deps.conversationOfCase?.(token));
      if (conversationId) {
        const referenced = await byReference();
        const last = await threads.lastInbound(conversationId);
        const sameCorrespondent =
          !last || last.from.address.toLowerCase() === inbound.from.address.toLowerCase();
        // A guessed or forwarded token must not let a stranger write into someone else's case.
        if (referenced === conversationId || sameCorrespondent) {
          return { conversationId, caseId: token, by: 'caseToken' };
        }
        this.deps.logger?.warn('case token from another correspondent ignored', {
          caseId: token,
          senderDomain: domainOf(inbound.from.address),
        });
        return referenced ? { conversationId: referenced, by: 'reference' } : { by: 'new' };
      }
    }
    const referenced = await byReference();
    return referenced ? { conversationId: referenced, by: 'reference' } : { by: 'new' };
  }

  private replyBody(result: Omit<EmailTurnResult, 'conversationId'>, caseId: string | undefined): string {
    const parts = [result.replyText.trim()];
    if (result.outcome === 'answered' && result.citations?.length) {
      const sources = result.citations.map((c) => {
        const url = this.deps.faqUrl?.(c.faqId);
        return url ? `- ${c.question} (${url})` : `- ${c.question}`;
      });
      parts.push(`Sources:\n${sources.join('\n')}`);
    }
    parts.push(`-- \n${this.supportName()}\n${caseId ? caseFooter(caseId) : ANSWER_FOOTER}`);
    return `${parts.join('\n\n')}\n`;
  }

  /** Links the outbound Message-ID before sending (a fast reply must find it), and the provider's after. */
  private async sendLinked(conversationId: string, mail: Parameters<EmailSender['send']>[0]) {
    const { threads, sender } = this.deps;
    const ours = normaliseMessageId(mail.messageId);
    if (ours) await threads.linkMessageId(ours, conversationId);
    const sent = await sender.send(mail);
    for (const id of [sent.messageId, ...(sent.alternateMessageIds ?? [])]) {
      const key = normaliseMessageId(id);
      if (key && key !== ours) await threads.linkMessageId(key, conversationId);
    }
    return sent;
  }

  private supportName(): string {
    return this.deps.supportAddress.name ?? 'Customer Support';
  }
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // Do not split a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max;
  return text.slice(0, end);
}
