/**
 * The immutable audit log: which model calls were made and what they cost, how cases were escalated and
 * handled, and which operator did what. Entries are built here (pure) from domain events and operator
 * actions, stripped of PII, and appended to every AuditLog: the audit table plus an archive (S3 with object
 * lock on AWS, append-only files locally).
 *
 * Append-only by construction: the port has no update or delete, and an entry's id is derived from its
 * source (message, case, event or request id), so a retried event or request produces the same entry,
 * which every store ignores the second time. Entries never hold customer or reply text: a model call is
 * identified by the SHA-256 of its PII-masked prompt.
 */
import { createHash } from 'node:crypto';
import type { DomainEvent } from './domainEvents';
import { maskPii } from './piiMasking';
import type { TokenBudgetAction } from './tokenBudget';

export const AUDIT_KINDS = ['model_call', 'escalation', 'operator_action', 'customer_data', 'auth'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditActor {
  readonly type: 'system' | 'operator' | 'customer';
  /** System component, operator username, or the conversation a customer acted in. */
  readonly id: string;
}

export interface AuditSubject {
  readonly conversationId?: string;
  readonly caseId?: string;
  readonly customerId?: string;
}

export interface ModelCallDetails {
  readonly modelId: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  /** SHA-256 (hex) of the PII-masked prompt: question, passage ids, model id. Absent in older events. */
  readonly promptHash?: string;
  /** What the token budget did to the prompt, when anything. */
  readonly budgetActions?: readonly TokenBudgetAction[];
}

/** Where a case is in its life: escalated by the bot, answered by an agent, resolved, abandoned. */
export type EscalationStage = 'escalated' | 'agent_replied' | 'resolved' | 'abandoned';

export interface EscalationDetails {
  readonly stage: EscalationStage;
  readonly reason?: string;
  readonly priority?: string;
  readonly queue?: string;
  readonly firstResponseSeconds?: number;
  readonly waitedSeconds?: number;
}

export const OPERATOR_ACTIONS = ['takeover', 'reply', 'resolve'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/** An operator's request, as authenticated; never the reply text. */
export interface OperatorActionDetails {
  readonly action: OperatorAction;
  readonly caseId: string;
}

/** Reads, exports or erasures of customer records (export and erase: the customer data API). */
export interface CustomerDataDetails {
  readonly operation: 'read' | 'export' | 'update' | 'erase';
  /** Names of the fields (or kinds of record) touched, never their values. */
  readonly fields?: readonly string[];
  /** Records touched per kind, e.g. { messages: 12 }: counts only. */
  readonly counts?: Readonly<Record<string, number>>;
}

/** Operator sign-in events (no producer yet: reserved for the auth API). */
export interface AuthDetails {
  readonly event: 'sign_in' | 'sign_in_failed' | 'sign_out' | 'password_changed' | 'operator_created';
}

interface AuditEntryBase {
  /** `au-` + 32 hex digits, derived from the entry's source: the same source always gives the same id. */
  readonly auditId: string;
  /** When it happened (ISO 8601, UTC). */
  readonly at: string;
  readonly actor: AuditActor;
  readonly subject: AuditSubject;
  /** Paths of fields in which PII was found and masked before the entry was stored. */
  readonly redacted?: readonly string[];
}

export type AuditEntry =
  | (AuditEntryBase & { readonly kind: 'model_call'; readonly details: ModelCallDetails })
  | (AuditEntryBase & { readonly kind: 'escalation'; readonly details: EscalationDetails })
  | (AuditEntryBase & { readonly kind: 'operator_action'; readonly details: OperatorActionDetails })
  | (AuditEntryBase & { readonly kind: 'customer_data'; readonly details: CustomerDataDetails })
  | (AuditEntryBase & { readonly kind: 'auth'; readonly details: AuthDetails });

/** Appends entries; there is deliberately no way to change or remove one. A known auditId is a no-op. */
export interface AuditLog {
  append(entries: readonly AuditEntry[]): Promise<void>;
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  /** Pass back to read the next page; absent on the last one. */
  readonly nextCursor?: string;
}

/** Lists a UTC day's entries, oldest first. */
export interface AuditReader {
  listDay(day: string, page: { readonly limit: number; readonly cursor?: string }): Promise<AuditPage>;
}

/** A listing cursor that is malformed or belongs to another day. */
export class InvalidAuditCursorError extends Error {
  override readonly name = 'InvalidAuditCursorError';
}

export const AUDIT_ID = /^au-[0-9a-f]{32}$/;
const PROMPT_HASH = /^[0-9a-f]{64}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
export const AUDIT_DAY = /^\d{4}-\d{2}-\d{2}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The audit id of a source such as `model_call:<messageId>` or `operator_action:reply:<requestId>`. */
export const auditIdOf = (source: string): string => `au-${sha256(source).slice(0, 32)}`;

/** The UTC day (YYYY-MM-DD) of an entry, its listing partition. */
export const auditDayOf = (entry: Pick<AuditEntry, 'at'>): string => entry.at.slice(0, 10);

/**
 * SHA-256 (hex) identifying a prompt without holding it: the PII-masked question (masked again here, so
 * raw text can never be hashed by mistake), the passage ids in order and the model id.
 */
export function promptHashOf(prompt: {
  readonly modelId: string;
  readonly question: string;
  readonly passageIds: readonly string[];
}): string {
  return sha256(
    JSON.stringify({
      modelId: prompt.modelId,
      question: maskPii(prompt.question).text,
      passageIds: prompt.passageIds,
    }),
  );
}

/** A domain event as the audit recorder receives it: its bus id and time, and the validated detail. */
export interface AuditedEvent {
  readonly id: string;
  readonly time: string;
  readonly detail: DomainEvent;
}

const SYSTEM = {
  assistant: { type: 'system', id: 'assistant' },
  escalationPolicy: { type: 'system', id: 'escalation-policy' },
  supportDesk: { type: 'system', id: 'support-desk' },
} as const satisfies Record<string, AuditActor>;

const isoOf = (time: string): string => {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) throw new Error(`audit: invalid time '${time}'`);
  return new Date(ms).toISOString();
};

/**
 * The audit entries a domain event stands for (none for events that are not audited). Ids come from the
 * domain (reply message, case) where one exists, so even a re-published event maps to the same entry.
 */
export function auditEntriesOf(event: AuditedEvent): AuditEntry[] {
  const at = isoOf(event.time);
  const detail = event.detail;
  switch (detail.type) {
    case 'MessageAnswered':
      return [
        {
          auditId: auditIdOf(`model_call:${detail.conversationId}:${detail.messageId}`),
          at,
          kind: 'model_call',
          actor: SYSTEM.assistant,
          subject: { conversationId: detail.conversationId },
          details: {
            modelId: detail.modelId,
            inputTokens: detail.inputTokens,
            outputTokens: detail.outputTokens,
            costUsd: detail.costUsd,
            ...(detail.promptHash ? { promptHash: detail.promptHash } : {}),
            ...(detail.budgetActions?.length ? { budgetActions: detail.budgetActions } : {}),
          },
        },
      ];
    case 'ConversationEscalated':
      return [
        {
          auditId: auditIdOf(`escalation:escalated:${detail.caseId}`),
          at,
          kind: 'escalation',
          actor: SYSTEM.escalationPolicy,
          subject: { conversationId: detail.conversationId, caseId: detail.caseId },
          details: {
            stage: 'escalated',
            reason: detail.reason,
            ...(detail.priority ? { priority: detail.priority } : {}),
            ...(detail.queue ? { queue: detail.queue } : {}),
          },
        },
      ];
    case 'AgentReplied':
      // Several replies per case and no message id in the event: the bus's event id tells them apart.
      return [
        {
          auditId: auditIdOf(`escalation:agent_replied:${event.id}`),
          at,
          kind: 'escalation',
          actor: { type: 'operator', id: detail.agentName },
          subject: { conversationId: detail.conversationId, caseId: detail.caseId },
          details: {
            stage: 'agent_replied',
            ...(detail.priority ? { priority: detail.priority } : {}),
            ...(detail.firstResponseSeconds !== undefined
              ? { firstResponseSeconds: detail.firstResponseSeconds }
              : {}),
          },
        },
      ];
    case 'ConversationResolved':
      // Automated resolutions have no case and nothing to audit beyond the model calls.
      if (!detail.caseId) return [];
      return [
        {
          auditId: auditIdOf(`escalation:resolved:${detail.caseId}`),
          at,
          kind: 'escalation',
          actor: SYSTEM.supportDesk,
          subject: { conversationId: detail.conversationId, caseId: detail.caseId },
          details: { stage: 'resolved' },
        },
      ];
    case 'CaseAbandoned':
      return [
        {
          auditId: auditIdOf(`escalation:abandoned:${detail.caseId}`),
          at,
          kind: 'escalation',
          actor: { type: 'customer', id: `conversation:${detail.conversationId}` },
          subject: { conversationId: detail.conversationId, caseId: detail.caseId },
          details: { stage: 'abandoned', waitedSeconds: detail.waitedSeconds },
        },
      ];
    default:
      return [];
  }
}

/** The entry an operator's REST action leaves, attributed to the signed-in operator. */
export function operatorActionEntry(input: {
  /** Unique per request (API Gateway's requestId): a retried invocation gives the same entry. */
  readonly requestId: string;
  readonly at: string;
  readonly operator: string;
  readonly action: OperatorAction;
  readonly caseId: string;
  readonly conversationId?: string;
}): AuditEntry {
  return {
    auditId: auditIdOf(`operator_action:${input.action}:${input.requestId}`),
    at: isoOf(input.at),
    kind: 'operator_action',
    actor: { type: 'operator', id: input.operator },
    subject: {
      caseId: input.caseId,
      ...(input.conversationId ? { conversationId: input.conversationId } : {}),
    },
    details: { action: input.action, caseId: input.caseId },
  };
}

/** The entry an export or erasure of a customer's data leaves, attributed to the operator who asked. */
export function customerDataEntry(input: {
  /** Unique per request (API Gateway's requestId): a retried invocation gives the same entry. */
  readonly requestId: string;
  readonly at: string;
  readonly operator: string;
  readonly operation: CustomerDataDetails['operation'];
  readonly customerId: string;
  readonly counts?: Readonly<Record<string, number>>;
}): AuditEntry {
  return {
    auditId: auditIdOf(`customer_data:${input.operation}:${input.requestId}`),
    at: isoOf(input.at),
    kind: 'customer_data',
    actor: { type: 'operator', id: input.operator },
    subject: { customerId: input.customerId },
    details: {
      operation: input.operation,
      ...(input.counts
        ? {
            fields: Object.keys(input.counts).filter((kind) => (input.counts?.[kind] ?? 0) > 0),
            counts: input.counts,
          }
        : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Redaction

/** Fields we generate in fixed formats: checked against those formats instead of scanned for PII. */
const FORMATTED_FIELDS: Record<string, RegExp> = {
  auditId: AUDIT_ID,
  at: ISO_INSTANT,
  'details.promptHash': PROMPT_HASH,
};

/** Every string of a JSON-like value with its dotted path (array items as path.N). */
function* stringsOf(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* stringsOf(item, `${path}.${i}`);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) yield* stringsOf(item, path ? `${path}.${key}` : key);
  }
}

function mapStrings(value: unknown, path: string, map: (path: string, text: string) => string): unknown {
  if (typeof value === 'string') return map(path, value);
  if (Array.isArray(value)) return value.map((item, i) => mapStrings(item, `${path}.${i}`, map));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, mapStrings(item, path ? `${path}.${key}` : key, map)]),
    );
  }
  return value;
}

function checkFormats(entry: AuditEntry): void {
  for (const [path, pattern] of Object.entries(FORMATTED_FIELDS)) {
    const value = path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown>)?.[key], entry);
    if (value !== undefined && !(typeof value === 'string' && pattern.test(value))) {
      throw new Error(`audit entry ${String(entry.auditId)}: ${path} is not in its expected format`);
    }
  }
}

/**
 * The entry with PII masked in every free string (ids, names, reasons…), the masked paths listed in
 * `redacted`. Generated fields (auditId, at, promptHash) must match their formats instead; an entry whose
 * generated fields do not is refused. An entry without PII comes back unchanged.
 */
export function redactAuditEntry(entry: AuditEntry): AuditEntry {
  checkFormats(entry);
  const redacted: string[] = [];
  const { redacted: _previous, ...content } = entry;
  const masked = mapStrings(content, '', (path, text) => {
    if (path in FORMATTED_FIELDS) return text;
    const result = maskPii(text);
    if (result.found.length === 0) return text;
    redacted.push(path);
    return result.text;
  }) as AuditEntry;
  const all = [...new Set([...(entry.redacted ?? []), ...redacted])];
  return redacted.length === 0 ? entry : { ...masked, redacted: all };
}

/** Throws, naming the field (never its value), if any free string of the entry still holds PII. */
export function assertNoRawPii(entry: AuditEntry): void {
  checkFormats(entry);
  for (const [path, text] of stringsOf(entry, '')) {
    if (path in FORMATTED_FIELDS) continue;
    const kinds = maskPii(text).found.map((f) => f.kind);
    if (kinds.length)
      throw new Error(`audit entry ${entry.auditId}: ${path} holds PII (${kinds.join(', ')})`);
  }
}

/**
 * The audit log the application writes to: every entry redacted and checked, then appended to each store
 * (table and archive). All stores are idempotent per auditId, so a failed append is simply retried whole.
 */
export function auditTrail(stores: readonly AuditLog[]): AuditLog {
  if (stores.length === 0) throw new Error('auditTrail: give at least one store');
  return {
    async append(entries) {
      if (entries.length === 0) return;
      const safe = entries.map(redactAuditEntry);
      for (const entry of safe) assertNoRawPii(entry);
      await Promise.all(stores.map((store) => store.append(safe)));
    },
  };
}
