/**
 * A customer's personal data (GDPR access and erasure): everything SupportMax holds about a customer id,
 * found through their conversations, exported as one document or erased with a receipt. Pure domain over
 * the store ports; the REST handler (handlers/api/customers.ts) checks the admin role and audits.
 *
 * Erasure order is what makes it safe to retry: per conversation, e-mail thread state, cases (their
 * escalation workflow's wait released first) and connections go first, then the messages, then the conversation record (deleteConversation), so an
 * interrupted erasure still finds the conversation through the customer index and finishes the job. Counts
 * are what each call deleted: a second erasure returns zeros.
 */
import { randomUUID } from 'node:crypto';
import type { CaseWorkflow } from './caseWorkflow';
import type { EmailThreadContext } from './emailChannel';
import type { Clock } from './ports';
import type {
  CaseRecord,
  CaseStore,
  ConnectionRecord,
  ConnectionStore,
  ConversationRecord,
  ConversationStore,
  MessageRecord,
} from './supportRecords';

/**
 * Customer ids the API accepts: the ids of signed customer tokens and CRM ids in practice (letters, digits,
 * `._@+:|=-`), at most 100 characters, starting with a letter or digit and without `..`.
 */
export const CUSTOMER_ID_PATTERN = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._@+:|=-]{0,99}$/;

export const isCustomerId = (value: unknown): value is string =>
  typeof value === 'string' && CUSTOMER_ID_PATTERN.test(value);

/** What the e-mail channel's store holds per conversation (DynamoEmailStore). */
export interface EmailThreadRecords {
  /** Where the conversation's latest customer mail stands in its thread (addresses, subject, ids). */
  lastInbound(conversationId: string): Promise<EmailThreadContext | undefined>;
  /** Deletes the conversation's thread state it can find by conversation and case ids; returns how many items. */
  eraseThread(conversationId: string, caseIds: readonly string[]): Promise<number>;
}

export interface CustomerDataDependencies {
  readonly conversations: ConversationStore;
  readonly cases: CaseStore;
  readonly connections: ConnectionStore;
  /** The e-mail channel's thread state; without it (no e-mail channel) there is none to export or erase. */
  readonly emailThreads?: EmailThreadRecords;
  /** Stored e-mail attachments; erased with their conversation. */
  readonly attachments?: { eraseConversation(conversationId: string): Promise<void> };
  /** Ends the escalation workflow's wait on an erased case (it then finds the case gone and stops). */
  readonly caseWorkflow?: Pick<CaseWorkflow, 'releaseWait'>;
  readonly clock: Clock;
  /** @default randomUUID */
  readonly newId?: () => string;
}

export const DATA_KINDS = ['conversations', 'messages', 'cases', 'connections', 'emailThreads'] as const;
export type DataKind = (typeof DATA_KINDS)[number];
export type DataCounts = Readonly<Record<DataKind, number>>;

/** A case as exported: the workflow's callback token is a credential, not data about the customer. */
export type ExportedCase = Omit<CaseRecord, 'waitToken'>;

export interface ExportedConversation {
  readonly conversation: ConversationRecord;
  readonly messages: readonly MessageRecord[];
  readonly cases: readonly ExportedCase[];
  /** Live WebSocket connections attached to the conversation (source IP included). */
  readonly connections: readonly ConnectionRecord[];
  /** The e-mail thread context of the conversation's latest customer mail, for e-mail conversations. */
  readonly emailThread?: EmailThreadContext;
}

/** Data that is not part of an export or that an erasure keeps, and why. */
export interface DataNote {
  readonly data: string;
  readonly why: string;
  readonly howToRemove?: string;
}

export interface CustomerExport {
  readonly customerId: string;
  readonly exportedAt: string;
  readonly counts: DataCounts;
  readonly conversations: readonly ExportedConversation[];
  readonly notIncluded: readonly DataNote[];
}

export interface ErasureReceipt {
  readonly receiptId: string;
  readonly customerId: string;
  readonly erasedAt: string;
  /** What this erasure deleted; all zero when there was nothing (left) to erase. */
  readonly counts: DataCounts;
  readonly retained: readonly DataNote[];
}

/** Thrown for a customer id outside CUSTOMER_ID_PATTERN. */
export class InvalidCustomerIdError extends Error {
  override readonly name = 'InvalidCustomerIdError';
}

const AUDIT_NOTE: DataNote = {
  data: 'audit log entries',
  why:
    'immutable by design (legal retention, S3 object lock): they hold ids (conversation, case) and ' +
    'operator actions only, never message text, and are listed per day, not per customer',
};

const CRM_NOTE: DataNote = {
  data: 'CRM customer profile and CRM copies of cases',
  why: "the company's master data, owned by its CRM, not by SupportMax",
  howToRemove:
    'remove or anonymise the customer in the CRM: with Salesforce, the Contact and the Cases named in ' +
    "case.crm of the export; with the built-in CRM, the customer's item in the customers table (demo " +
    'customers from data/crm/customers.json are seeded again on the next start of the local face)',
};

/** What an erasure keeps, and why. */
export const RETAINED: readonly DataNote[] = [
  AUDIT_NOTE,
  {
    data: 'aggregate metrics',
    why: 'hourly counts, latencies and costs without any customer, conversation or case attribution',
  },
  CRM_NOTE,
  {
    data: 'e-mail processing markers and older thread links',
    why:
      'Message-IDs of processed mails and links from Message-IDs to the (now erased) conversation id; ' +
      'no text or address (reply counts per sender are stored hashed); they expire by TTL, and a later ' +
      'mail in the thread starts a new conversation',
  },
  {
    data: 'connections not attached to a conversation',
    why: 'found by conversation only; they expire within 2 hours (TTL)',
  },
];

const NOT_EXPORTED: readonly DataNote[] = [
  {
    ...AUDIT_NOTE,
    why: `${AUDIT_NOTE.why}: finding a customer's entries would mean reading every day's log`,
  },
  CRM_NOTE,
];

const zeroCounts = (): Record<DataKind, number> => ({
  conversations: 0,
  messages: 0,
  cases: 0,
  connections: 0,
  emailThreads: 0,
});

export class CustomerData {
  constructor(private readonly deps: CustomerDataDependencies) {}

  /** Everything held about the customer. An unknown customer gets an empty export (no existence oracle). */
  async exportCustomer(customerId: string): Promise<CustomerExport> {
    checkCustomerId(customerId);
    const { conversations, connections, emailThreads } = this.deps;
    const exportedAt = this.now();
    const exported = await Promise.all(
      (await this.conversationsOf(customerId)).map(async (conversation): Promise<ExportedConversation> => {
        const { conversationId } = conversation;
        const [messages, cases, live, emailThread] = await Promise.all([
          conversations.listMessages(conversationId),
          this.casesOf(conversation),
          connections.listByConversation(conversationId),
          emailThreads?.lastInbound(conversationId),
        ]);
        return {
          conversation,
          messages,
          cases: cases.map(({ waitToken: _token, ...exportedCase }) => exportedCase),
          connections: live,
          ...(emailThread ? { emailThread } : {}),
        };
      }),
    );
    const counts = zeroCounts();
    for (const c of exported) {
      counts.conversations++;
      counts.messages += c.messages.length;
      counts.cases += c.cases.length;
      counts.connections += c.connections.length;
      if (c.emailThread) counts.emailThreads++;
    }
    return { customerId, exportedAt, counts, conversations: exported, notIncluded: NOT_EXPORTED };
  }

  /**
   * Erases the customer's conversations with their messages, cases, connections and e-mail thread state.
   * Idempotent: what is gone is not counted again, so a repeated erasure returns zero counts.
   */
  async eraseCustomer(customerId: string): Promise<ErasureReceipt> {
    checkCustomerId(customerId);
    const counts = zeroCounts();
    // One conversation at a time: each is erased in the crash-safe order before the next starts.
    for (const conversation of await this.conversationsOf(customerId)) {
      const erased = await this.eraseConversation(conversation);
      for (const kind of DATA_KINDS) counts[kind] += erased[kind];
    }
    return {
      receiptId: `er-${(this.deps.newId ?? randomUUID)()}`,
      customerId,
      erasedAt: this.now(),
      counts,
      retained: RETAINED,
    };
  }

  private async eraseConversation(conversation: ConversationRecord): Promise<DataCounts> {
    const { conversations, cases, connections, emailThreads, caseWorkflow, attachments } = this.deps;
    const { conversationId } = conversation;
    const caseRecords = await this.casesOf(conversation);
    await attachments?.eraseConversation(conversationId);
    const emailItems =
      (await emailThreads?.eraseThread(
        conversationId,
        caseRecords.map((c) => c.caseId),
      )) ?? 0;
    let deletedCases = 0;
    for (const record of caseRecords) {
      await caseWorkflow?.releaseWait(record, 'abandoned');
      if (await cases.deleteCase(record.caseId)) deletedCases++;
    }
    const live = await connections.listByConversation(conversationId);
    for (const connection of live) await connections.deleteConnection(connection.connectionId);
    const deleted = await conversations.deleteConversation(conversationId);
    return {
      conversations: deleted.conversation ? 1 : 0,
      messages: deleted.messages,
      cases: deletedCases,
      connections: live.length,
      emailThreads: emailItems,
    };
  }

  /** The customer's conversations; the index is only a hint, the record's own customerId decides. */
  private async conversationsOf(customerId: string): Promise<ConversationRecord[]> {
    const found = await this.deps.conversations.listByCustomer(customerId);
    return found
      .filter((c) => c.customerId === customerId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Cases by the conversation index, plus the conversation's own case link (index lag). */
  private async casesOf(conversation: ConversationRecord): Promise<CaseRecord[]> {
    const { cases } = this.deps;
    const listed = await cases.listByConversation(conversation.conversationId);
    const byId = new Map(
      listed.filter((c) => c.conversationId === conversation.conversationId).map((c) => [c.caseId, c]),
    );
    if (conversation.caseId && !byId.has(conversation.caseId)) {
      const linked = await cases.getCase(conversation.caseId);
      if (linked?.conversationId === conversation.conversationId) byId.set(linked.caseId, linked);
    }
    return [...byId.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}

function checkCustomerId(customerId: string): void {
  if (!isCustomerId(customerId)) {
    throw new InvalidCustomerIdError('customerId must be 1-100 letters, digits or ._@+:|=- without ".."');
  }
}
