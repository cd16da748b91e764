/**
 * Domain events published between stages (EventBridge on AWS, the in-process bus locally). Consumers:
 * metrics aggregation, operator-console notifications, the audit log. `detail` never holds raw PII.
 */
import type { EscalationReason } from './escalationPolicy';

export const EVENT_SOURCE = 'supportmax';

export interface MessageReceived {
  readonly type: 'MessageReceived';
  readonly conversationId: string;
  readonly messageId: string;
  readonly channel: 'chat' | 'email';
  /** True for the first customer message of the conversation. */
  readonly firstMessage: boolean;
}

export interface MessageAnswered {
  readonly type: 'MessageAnswered';
  readonly conversationId: string;
  readonly messageId: string;
  readonly intent: string;
  readonly productArea: string;
  readonly confidence: number;
  readonly faqIds: readonly string[];
  readonly turnLatencyMs: number;
  readonly retrievalLatencyMs: number;
  readonly modelLatencyMs: number;
  readonly modelId: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
}

export interface ConversationEscalated {
  readonly type: 'ConversationEscalated';
  readonly conversationId: string;
  readonly caseId: string;
  readonly reason: EscalationReason;
  readonly intent: string;
  readonly productArea: string;
  readonly confidence: number;
  readonly turnLatencyMs: number;
  readonly priority?: string;
}

export interface AgentReplied {
  readonly type: 'AgentReplied';
  readonly conversationId: string;
  readonly caseId: string;
  readonly agentName: string;
  /** Seconds from escalation to this reply when it is the first human response, else undefined. */
  readonly firstResponseSeconds?: number;
}

export interface ConversationResolved {
  readonly type: 'ConversationResolved';
  readonly conversationId: string;
  readonly resolvedBy: 'automated' | 'human';
  readonly caseId?: string;
  /** Seconds from the first customer message to resolution. */
  readonly resolutionSeconds: number;
  readonly intent?: string;
  readonly productArea?: string;
}

export type DomainEvent =
  | MessageReceived
  | MessageAnswered
  | ConversationEscalated
  | AgentReplied
  | ConversationResolved;
export type DomainEventType = DomainEvent['type'];

/** An event as carried on the bus: EventBridge's envelope fields plus our detail. */
export interface EventEnvelope<E extends DomainEvent = DomainEvent> {
  readonly id: string;
  readonly source: typeof EVENT_SOURCE;
  readonly 'detail-type': E['type'];
  readonly time: string;
  readonly detail: E;
}

/** Publishes domain events; EventBridge PutEvents on AWS, the in-process bus locally. */
export interface EventPublisher {
  publish(events: readonly DomainEvent[]): Promise<void>;
}
