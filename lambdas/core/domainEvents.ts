/**
 * Domain events published between stages (EventBridge on AWS, the in-process bus locally). Consumers:
 * metrics aggregation, operator-console notifications, the audit log. `detail` never holds raw PII.
 */
import type { EscalationReason } from './escalationPolicy';
import type { TokenBudgetAction } from './tokenBudget';

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
  /** What the token budget did to the prompt (tokenBudget.ts), when it did anything. */
  readonly budgetActions?: readonly TokenBudgetAction[];
  /** SHA-256 (hex) of the PII-masked prompt (auditLog.promptHashOf); never the prompt itself. */
  readonly promptHash?: string;
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
  /** The team queue triage chose for the case. */
  readonly queue?: string;
}

export interface AgentReplied {
  readonly type: 'AgentReplied';
  readonly conversationId: string;
  readonly caseId: string;
  readonly agentName: string;
  /** The agent's message (its text stays in the store: events carry no customer-facing text). */
  readonly messageId?: string;
  readonly priority?: string;
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

/** The escalation workflow has the case ready for humans: customer known, priority, SLA, team queue. */
export interface CaseOpened {
  readonly type: 'CaseOpened';
  readonly conversationId: string;
  readonly caseId: string;
  readonly priority: string;
  readonly queue: string;
  readonly level: string;
  readonly tier: string;
  /** When the first response is due (ISO). */
  readonly slaDueAt: string;
}

/** Nobody answered a case within its first-response target: it moved up a support level. */
export interface SlaBreached {
  readonly type: 'SlaBreached';
  readonly conversationId: string;
  readonly caseId: string;
  readonly priority: string;
  readonly tier: string;
  readonly fromLevel: string;
  readonly toLevel: string;
  readonly overdueSeconds: number;
  /** Breaches of this case so far, this one included. */
  readonly breaches: number;
}

/** The customer ended the conversation before an agent answered. */
export interface CaseAbandoned {
  readonly type: 'CaseAbandoned';
  readonly conversationId: string;
  readonly caseId: string;
  readonly waitedSeconds: number;
}

export type DomainEvent =
  | MessageReceived
  | MessageAnswered
  | ConversationEscalated
  | AgentReplied
  | ConversationResolved
  | CaseOpened
  | SlaBreached
  | CaseAbandoned;
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
