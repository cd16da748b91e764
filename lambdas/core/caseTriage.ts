/**
 * First-pass triage of an escalation: team queue from intent, priority from sentiment/urgency and reason,
 * a one-line subject, the handoff summary and simple entities. The escalation workflow refines this
 * (customer tier, SLA); this part needs nothing but the turn itself.
 */
import type { Citation } from './conversationEngine';
import type { SentimentReading } from './customerSentiment';
import type { EscalationReason } from './escalationPolicy';
import type { HandoffPacket, MessageRecord, Priority } from './supportRecords';
import { INTENT_NAMES, type Intent, isIntent, isProductArea, PRODUCT_AREA_NAMES } from './types';

export const QUEUE_BY_INTENT: Record<Intent, string> = {
  billing_question: 'billing',
  technical_issue: 'technical',
  account_management: 'account',
  feature_request: 'general',
  general_inquiry: 'general',
};

export function priorityOf(reason: EscalationReason, sentiment: SentimentReading): Priority {
  if (sentiment.urgency >= 0.6 && sentiment.sentiment < 0) return 'P1';
  if (reason === 'negative_sentiment_urgent' || sentiment.urgency >= 0.3) return 'P2';
  if (reason === 'human_requested' || sentiment.sentiment < 0) return 'P3';
  return 'P4';
}

const ENTITY_PATTERNS: Record<string, RegExp> = {
  errorCodes:
    /\b(?:[A-Z][A-Z0-9]*_[A-Z0-9_]+|E\d{3,5}|HTTP\s?[45]\d\d|[45]\d\d\s(?:error|unauthori[sz]ed|forbidden|not found))\b/g,
  invoiceIds: /\b(?:INV|ORD|ORDER|INVOICE)[-#]?\s?[A-Z0-9-]{3,}\b/gi,
  versions: /\bv?\d+\.\d+(?:\.\d+)?\b/g,
};

export function extractEntities(text: string): Record<string, string[]> {
  const entities: Record<string, string[]> = {};
  for (const [name, pattern] of Object.entries(ENTITY_PATTERNS)) {
    const found = [...new Set(text.match(pattern) ?? [])].slice(0, 10);
    if (found.length) entities[name] = found;
  }
  return entities;
}

export interface TriageInput {
  readonly reason: EscalationReason;
  readonly intent: string;
  readonly productArea: string;
  readonly confidence: number;
  readonly sentiment: SentimentReading;
  readonly faqsTried: readonly Citation[];
  /** Customer messages of the conversation so far, PII masked, oldest first. */
  readonly transcript: readonly Pick<MessageRecord, 'role' | 'text'>[];
}

export interface Triage {
  readonly priority: Priority;
  readonly queue: string;
  readonly subject: string;
  readonly handoff: HandoffPacket;
}

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;

export function triageEscalation(input: TriageInput): Triage {
  const customerLines = input.transcript.filter((m) => m.role === 'customer').map((m) => m.text);
  const last = customerLines[customerLines.length - 1] ?? '';
  const intentName = isIntent(input.intent) ? INTENT_NAMES[input.intent] : input.intent;
  const areaName = isProductArea(input.productArea)
    ? PRODUCT_AREA_NAMES[input.productArea]
    : input.productArea;
  const summary = [
    `${intentName} about ${areaName}; escalated: ${input.reason.replace(/_/g, ' ')}.`,
    customerLines.length > 1 ? `First message: "${clip(customerLines[0]!, 200)}"` : '',
    `Latest message: "${clip(last, 300)}"`,
    `${customerLines.length} customer message(s); bot confidence ${Math.round(input.confidence * 100)} %.`,
  ]
    .filter(Boolean)
    .join(' ');
  return {
    priority: priorityOf(input.reason, input.sentiment),
    queue: isIntent(input.intent) ? QUEUE_BY_INTENT[input.intent] : 'general',
    subject: clip(last.replace(/\s+/g, ' '), 90) || intentName,
    handoff: {
      summary,
      intent: input.intent,
      productArea: input.productArea,
      confidence: input.confidence,
      reason: input.reason,
      sentiment: input.sentiment.sentiment,
      urgency: input.sentiment.urgency,
      faqsTried: input.faqsTried,
      entities: extractEntities(customerLines.join('\n')),
    },
  };
}

export function escalationMessage(reason: EscalationReason, caseId: string): string {
  const opening =
    reason === 'human_requested'
      ? 'Of course. I am connecting you with a member of our support team.'
      : reason === 'negative_sentiment_urgent'
        ? 'I am sorry about this. I have flagged it as urgent for our support team.'
        : 'I want to get this right, so I am passing your question to a member of our support team.';
  return `${opening} Your case number is ${caseId}. They will reply right here, and you can keep adding details meanwhile.`;
}
