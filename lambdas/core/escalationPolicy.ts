/**
 * When a turn goes to a human instead of being answered. Reasons are stable codes used in metrics,
 * cases and the WebSocket protocol.
 */
import type { SentimentReading } from './customerSentiment';

export const ESCALATION_REASONS = [
  'human_requested',
  'negative_sentiment_urgent',
  'low_confidence',
  'out_of_scope',
  'answer_unavailable',
] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

/**
 * Answer only when the calibrated probability that the rank-1 FAQ is right is at least this. At 0.65 the
 * mixed evaluation set (ordinary paraphrases + out-of-scope) had 3 % wrong answers, 97 % of unanswerable
 * messages escalated and 91 % automation (docs/engine.md). Operators trade automation for caution per tenant.
 */
export const DEFAULT_CONFIDENCE_THRESHOLD = 0.65;

export interface EscalationPolicyOptions {
  /** Answer only at or above this calibrated confidence. */
  readonly confidenceThreshold: number;
  /** Escalate angry and urgent messages: sentiment at or below this… @default -0.4 */
  readonly sentimentThreshold?: number;
  /** …and urgency at or above this. @default 0.3 */
  readonly urgencyThreshold?: number;
}

export interface TurnSignals {
  readonly confidence: number;
  readonly humanRequested: boolean;
  readonly sentiment: SentimentReading;
  /** No candidate FAQ at all (empty or unrelated knowledge base). */
  readonly noCandidates: boolean;
}

export type EscalationDecision =
  | { readonly escalate: false }
  | { readonly escalate: true; readonly reason: EscalationReason };

export class EscalationPolicy {
  private readonly sentimentThreshold: number;
  private readonly urgencyThreshold: number;

  constructor(private readonly options: EscalationPolicyOptions) {
    const t = options.confidenceThreshold;
    if (!(t >= 0 && t <= 1)) throw new Error(`confidenceThreshold must be within [0, 1], got ${t}`);
    this.sentimentThreshold = options.sentimentThreshold ?? -0.4;
    this.urgencyThreshold = options.urgencyThreshold ?? 0.3;
  }

  get confidenceThreshold(): number {
    return this.options.confidenceThreshold;
  }

  decide(signals: TurnSignals): EscalationDecision {
    if (signals.humanRequested) return { escalate: true, reason: 'human_requested' };
    if (
      signals.sentiment.sentiment <= this.sentimentThreshold &&
      signals.sentiment.urgency >= this.urgencyThreshold
    ) {
      return { escalate: true, reason: 'negative_sentiment_urgent' };
    }
    if (signals.noCandidates) return { escalate: true, reason: 'out_of_scope' };
    if (signals.confidence < this.options.confidenceThreshold)
      return { escalate: true, reason: 'low_confidence' };
    return { escalate: false };
  }
}
