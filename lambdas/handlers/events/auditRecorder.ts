/**
 * EventBridge target of the `audit` rule (the in-process bus locally): turns model calls, escalations and
 * case updates into audit entries (core/auditLog.ts) and appends them to the audit table and the archive.
 * Entry ids derive from the event, so EventBridge's retries and replays write nothing twice.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import { type AuditLog, auditEntriesOf } from '#core/auditLog';
import type { DomainEvent } from '#core/domainEvents';
import { ESCALATION_REASONS } from '#core/escalationPolicy';
import { TOKEN_BUDGET_ACTIONS } from '#core/tokenBudget';
import { auditLog } from '../shared/auditTrail';
import { instrumented } from '../shared/middleware';
import { logger } from '../shared/powertools';

export type AuditEvent = Pick<EventBridgeEvent<string, unknown>, 'id' | 'time' | 'detail-type' | 'detail'>;
export type AuditOutcome = 'recorded' | 'ignored';

const id = z.string().min(1).max(200);
const amount = z.number().finite().nonnegative();
const text = z.string().max(200);

/** The fields the audit reads of each audited event; others pass unchecked. */
const DETAIL_SCHEMAS = {
  MessageAnswered: z.object({
    conversationId: id,
    messageId: id,
    modelId: text,
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    costUsd: amount,
    budgetActions: z.array(z.enum(TOKEN_BUDGET_ACTIONS)).optional(),
    promptHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  }),
  ConversationEscalated: z.object({
    conversationId: id,
    caseId: id,
    reason: z.enum(ESCALATION_REASONS),
    priority: text.optional(),
    queue: text.optional(),
  }),
  AgentReplied: z.object({
    conversationId: id,
    caseId: id,
    agentName: text,
    priority: text.optional(),
    firstResponseSeconds: amount.optional(),
  }),
  ConversationResolved: z.object({
    conversationId: id,
    resolvedBy: z.enum(['automated', 'human']),
    caseId: id.optional(),
  }),
  CaseAbandoned: z.object({ conversationId: id, caseId: id, waitedSeconds: amount }),
} satisfies Partial<Record<DomainEvent['type'], z.ZodTypeAny>>;

const isAudited = (type: string): type is keyof typeof DETAIL_SCHEMAS => Object.hasOwn(DETAIL_SCHEMAS, type);

const envelopeSchema = z.object({
  id,
  time: z.string().datetime({ offset: true }),
  'detail-type': z.string(),
  detail: z.object({}).passthrough(),
});

function invalid(event: AuditEvent, error: z.ZodError): Error {
  const issue = error.issues[0]!;
  return new Error(
    `invalid ${String(event['detail-type'])} event ${String(event.id)}: ${issue.path.join('.') || 'event'}: ${issue.message}`,
  );
}

/** The recorder without Lambda wiring, for tests and the local bus. */
export function createAuditRecorder({ log }: { readonly log: AuditLog }) {
  return async (event: AuditEvent): Promise<AuditOutcome> => {
    const envelope = envelopeSchema.safeParse(event);
    if (!envelope.success) throw invalid(event, envelope.error);
    const type = envelope.data['detail-type'];
    if (!isAudited(type)) {
      logger.warn('ignoring an event type the audit does not record', {
        detailType: type,
        eventId: event.id,
      });
      return 'ignored';
    }
    const detail = DETAIL_SCHEMAS[type].safeParse(envelope.data.detail);
    if (!detail.success) throw invalid(event, detail.error);
    const entries = auditEntriesOf({
      id: envelope.data.id,
      time: envelope.data.time,
      // Only validated fields reach the entry builder.
      detail: { ...detail.data, type } as unknown as DomainEvent,
    });
    if (entries.length === 0) return 'ignored';
    await log.append(entries);
    return 'recorded';
  };
}

let record: ReturnType<typeof createAuditRecorder> | undefined;

export const handler = instrumented(async (event: AuditEvent) => {
  record ??= createAuditRecorder({ log: auditLog() });
  return record(event);
});
