/**
 * The one list of CloudWatch metric names the handlers emit (Powertools EMF) and the dashboards and
 * alarms read. Construct tests assert that every dashboard metric is in this list.
 */
export const METRIC_NAMESPACE = 'SupportMax';

export const METRICS = {
  messagesReceived: 'MessagesReceived',
  turnsAnswered: 'TurnsAnswered',
  turnsEscalated: 'TurnsEscalated',
  conversationsResolvedAutomated: 'ConversationsResolvedAutomated',
  conversationsResolvedHuman: 'ConversationsResolvedHuman',
  turnLatencyMs: 'TurnLatencyMs',
  retrievalLatencyMs: 'RetrievalLatencyMs',
  modelLatencyMs: 'ModelLatencyMs',
  inputTokens: 'InputTokens',
  outputTokens: 'OutputTokens',
  modelCostUsd: 'ModelCostUsd',
  confidenceScore: 'ConfidenceScore',
  escalationReason: 'EscalationReason',
  slaBreaches: 'SlaBreaches',
  resolutionSeconds: 'ResolutionSeconds',
  firstResponseSeconds: 'FirstResponseSeconds',
  errors: 'Errors',
  /** One count per token-budget action on a prompt, dimension `action` (tokenBudget.ts). */
  tokenBudgetActions: 'TokenBudgetActions',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];
export const ALL_METRIC_NAMES: readonly MetricName[] = Object.values(METRICS);
