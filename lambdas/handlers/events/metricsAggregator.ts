/**
 * EventBridge target (the in-process bus locally) counting every domain event twice over, from one
 * definition: into the metrics table's time buckets (read by GET /api/metrics) and as Powertools EMF
 * metrics (CloudWatch dashboards and alarms). A replayed event is counted by neither.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import { documentClient } from '#adapters/dynamoDocumentClient';
import { DynamoMetricsStore } from '#adapters/dynamoMetricsStore';
import { TABLES } from '#adapters/tableDefinitions';
import {
  type AgentReplied,
  type CaseAbandoned,
  type CaseOpened,
  type ConversationEscalated,
  type ConversationResolved,
  type DomainEvent,
  type DomainEventType,
  EVENT_SOURCE,
  type MessageAnswered,
  type MessageReceived,
  type SlaBreached,
} from '#core/domainEvents';
import { ESCALATION_REASONS } from '#core/escalationPolicy';
import { METRICS } from '#core/metricNames';
import { bucketUpdates, type MetricsStore } from '#core/metricsAggregation';
import type { Clock } from '#core/ports';
import { TOKEN_BUDGET_ACTIONS } from '#core/tokenBudget';
import { domainClock } from '../shared/clock';
import { requireEnv } from '../shared/env';
import { instrumented } from '../shared/middleware';
import { logger, metrics as sharedMetrics } from '../shared/powertools';

/** How long a counted event id is remembered; EventBridge gives up retrying after 24 h. */
const DEDUPE_HORIZON_SECONDS = 48 * 3600;

/** The envelope fields used; the local bus's EventEnvelope and a full EventBridgeEvent both fit. */
export type MetricsEvent = Pick<EventBridgeEvent<string, unknown>, 'id' | 'time' | 'detail-type' | 'detail'>;
export type AggregationOutcome = 'counted' | 'duplicate' | 'ignored';

// Names become counter keys and metric dimensions: keep them plain.
const label = z.string().regex(/^[\w-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');
const id = z.string().min(1);
const count = z.number().int().nonnegative();
const amount = z.number().finite().nonnegative();
const score = z.number().min(0).max(1);

type Detail<E extends DomainEvent> = z.ZodType<Omit<E, 'type'>, z.ZodTypeDef, unknown>;

const messageReceived: Detail<MessageReceived> = z.object({
  conversationId: id,
  messageId: id,
  channel: z.enum(['chat', 'email']),
  firstMessage: z.boolean(),
});
const messageAnswered: Detail<MessageAnswered> = z.object({
  conversationId: id,
  messageId: id,
  intent: label,
  productArea: label,
  confidence: score,
  faqIds: z.array(z.string()),
  turnLatencyMs: amount,
  retrievalLatencyMs: amount,
  modelLatencyMs: amount,
  modelId: z.string(),
  inputTokens: count,
  outputTokens: count,
  costUsd: amount,
  budgetActions: z.array(z.enum(TOKEN_BUDGET_ACTIONS)).optional(),
  promptHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
const conversationEscalated: Detail<ConversationEscalated> = z.object({
  conversationId: id,
  caseId: id,
  reason: z.enum(ESCALATION_REASONS),
  intent: label,
  productArea: label,
  confidence: score,
  turnLatencyMs: amount,
  priority: z.string().optional(),
  queue: z.string().optional(),
});
const agentReplied: Detail<AgentReplied> = z.object({
  conversationId: id,
  caseId: id,
  agentName: z.string(),
  messageId: z.string().optional(),
  priority: z.string().optional(),
  firstResponseSeconds: amount.optional(),
});
const conversationResolved: Detail<ConversationResolved> = z.object({
  conversationId: id,
  resolvedBy: z.enum(['automated', 'human']),
  caseId: id.optional(),
  resolutionSeconds: amount,
  intent: label.optional(),
  productArea: label.optional(),
});

const priority = z.enum(['P1', 'P2', 'P3', 'P4']);
const level = z.enum(['L1', 'L2', 'L3']);
const caseOpened: Detail<CaseOpened> = z.object({
  conversationId: id,
  caseId: id,
  priority,
  queue: label,
  level,
  tier: label,
  slaDueAt: z.string().datetime({ offset: true }),
});
const slaBreached: Detail<SlaBreached> = z.object({
  conversationId: id,
  caseId: id,
  priority,
  tier: label,
  fromLevel: level,
  toLevel: level,
  overdueSeconds: amount,
  breaches: count,
});
const caseAbandoned: Detail<CaseAbandoned> = z.object({
  conversationId: id,
  caseId: id,
  waitedSeconds: amount,
});

const DETAIL_SCHEMAS: Record<DomainEventType, z.ZodTypeAny> = {
  MessageReceived: messageReceived,
  MessageAnswered: messageAnswered,
  ConversationEscalated: conversationEscalated,
  AgentReplied: agentReplied,
  ConversationResolved: conversationResolved,
  CaseOpened: caseOpened,
  SlaBreached: slaBreached,
  CaseAbandoned: caseAbandoned,
};

const isEventType = (type: string): type is DomainEventType => Object.hasOwn(DETAIL_SCHEMAS, type);

const envelopeSchema = z.object({
  id,
  time: z.string().datetime({ offset: true }),
  'detail-type': z.string(),
  detail: z.object({ type: z.string().optional() }).passthrough(),
});

/** The validated domain event, undefined for a detail-type this consumer does not know. */
function parseEvent(event: MetricsEvent): { id: string; time: string; detail: DomainEvent } | undefined {
  const envelope = envelopeSchema.safeParse(event);
  if (!envelope.success) throw invalid(event, envelope.error);
  const type = envelope.data['detail-type'];
  if (!isEventType(type)) return undefined;
  if (envelope.data.detail.type !== undefined && envelope.data.detail.type !== type) {
    throw new Error(
      `event ${event.id}: detail.type '${envelope.data.detail.type}' is not detail-type '${type}'`,
    );
  }
  const detail = DETAIL_SCHEMAS[type].safeParse(envelope.data.detail);
  if (!detail.success) throw invalid(event, detail.error);
  return { id: envelope.data.id, time: envelope.data.time, detail: { ...detail.data, type } as DomainEvent };
}

function invalid(event: MetricsEvent, error: z.ZodError): Error {
  const issue = error.issues[0]!;
  return new Error(
    `invalid ${String(event['detail-type'])} event ${String(event.id)}: ${issue.path.join('.') || 'event'}: ${issue.message}`,
  );
}

/** One value with its own dimension, flushed at once so the dimension does not spread to other metrics. */
function countBy(
  metrics: Metrics,
  name: string,
  dimension: string,
  value: string,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit] = MetricUnit.Count,
  amount = 1,
): void {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, unit, amount);
}

/** EMF metrics of one event: service-level values, plus counts by intent, product area and reason. */
function emitMetrics(metrics: Metrics, event: DomainEvent): void {
  switch (event.type) {
    case 'MessageReceived':
      metrics.addMetric(METRICS.messagesReceived, MetricUnit.Count, 1);
      return;
    case 'MessageAnswered':
      metrics.addMetric(METRICS.turnsAnswered, MetricUnit.Count, 1);
      metrics.addMetric(METRICS.turnLatencyMs, MetricUnit.Milliseconds, event.turnLatencyMs);
      metrics.addMetric(METRICS.retrievalLatencyMs, MetricUnit.Milliseconds, event.retrievalLatencyMs);
      metrics.addMetric(METRICS.modelLatencyMs, MetricUnit.Milliseconds, event.modelLatencyMs);
      metrics.addMetric(METRICS.inputTokens, MetricUnit.Count, event.inputTokens);
      metrics.addMetric(METRICS.outputTokens, MetricUnit.Count, event.outputTokens);
      metrics.addMetric(METRICS.modelCostUsd, MetricUnit.NoUnit, event.costUsd);
      metrics.addMetric(METRICS.confidenceScore, MetricUnit.NoUnit, event.confidence);
      countBy(metrics, METRICS.turnsAnswered, 'intent', event.intent);
      countBy(metrics, METRICS.turnsAnswered, 'productArea', event.productArea);
      for (const action of event.budgetActions ?? []) {
        countBy(metrics, METRICS.tokenBudgetActions, 'action', action);
      }
      return;
    case 'ConversationEscalated':
      metrics.addMetric(METRICS.turnsEscalated, MetricUnit.Count, 1);
      metrics.addMetric(METRICS.turnLatencyMs, MetricUnit.Milliseconds, event.turnLatencyMs);
      metrics.addMetric(METRICS.confidenceScore, MetricUnit.NoUnit, event.confidence);
      countBy(metrics, METRICS.escalationReason, 'reason', event.reason);
      countBy(metrics, METRICS.turnsEscalated, 'intent', event.intent);
      countBy(metrics, METRICS.turnsEscalated, 'productArea', event.productArea);
      return;
    case 'AgentReplied':
      if (event.firstResponseSeconds !== undefined) {
        metrics.addMetric(METRICS.firstResponseSeconds, MetricUnit.Seconds, event.firstResponseSeconds);
        if (event.priority) {
          // Per priority, for the "P1 first response > 5 min" alarm.
          countBy(
            metrics,
            METRICS.firstResponseSeconds,
            'priority',
            event.priority,
            MetricUnit.Seconds,
            event.firstResponseSeconds,
          );
        }
      }
      return;
    case 'ConversationResolved':
      metrics.addMetric(
        event.resolvedBy === 'automated'
          ? METRICS.conversationsResolvedAutomated
          : METRICS.conversationsResolvedHuman,
        MetricUnit.Count,
        1,
      );
      metrics.addMetric(METRICS.resolutionSeconds, MetricUnit.Seconds, event.resolutionSeconds);
      return;
    case 'SlaBreached':
      metrics.addMetric(METRICS.slaBreaches, MetricUnit.Count, 1);
      countBy(metrics, METRICS.slaBreaches, 'priority', event.priority);
      return;
    case 'CaseOpened':
    case 'CaseAbandoned':
      return;
  }
}

export interface MetricsAggregatorDependencies {
  readonly store: MetricsStore;
  readonly clock: Clock;
  /** @default the process's Powertools metrics instance */
  readonly metrics?: Metrics;
}

/** The aggregator without Lambda wiring, for tests and the local bus. */
export function createMetricsAggregator({
  store,
  clock,
  metrics = sharedMetrics,
}: MetricsAggregatorDependencies) {
  return async (event: MetricsEvent): Promise<AggregationOutcome> => {
    const parsed = parseEvent(event);
    if (!parsed) {
      logger.warn('ignoring an event type metrics do not count', {
        detailType: event['detail-type'],
        eventId: event.id,
      });
      return 'ignored';
    }
    const updates = bucketUpdates({ ...parsed, source: EVENT_SOURCE, 'detail-type': parsed.detail.type });
    const counted = await store.increment(updates, {
      eventId: parsed.id,
      dedupeUntil: Math.floor(clock.now() / 1000) + DEDUPE_HORIZON_SECONDS,
    });
    if (!counted) {
      logger.info('event already counted', { eventId: parsed.id, detailType: parsed.detail.type });
      return 'duplicate';
    }
    emitMetrics(metrics, parsed.detail);
    return 'counted';
  };
}

let aggregate: ReturnType<typeof createMetricsAggregator> | undefined;

export const handler = instrumented(async (event: MetricsEvent) => {
  aggregate ??= createMetricsAggregator({
    store: new DynamoMetricsStore(documentClient(), requireEnv(TABLES.metrics.envVar)),
    clock: domainClock,
  });
  return aggregate(event);
});
